from django.contrib import admin

from chatbot.models import Conversation, Message


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    readonly_fields = ("role", "content", "model", "fallback", "sources", "retrieval", "created_at")
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "updated_at")
    inlines = [MessageInline]
    readonly_fields = ("user", "title")
