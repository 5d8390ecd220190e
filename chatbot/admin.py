from django.contrib import admin

from chatbot.models import Conversation, Feedback, Message


class MessageInline(admin.TabularInline[Message, Conversation]):
    model = Message
    extra = 0
    fields = ("role", "content", "confidence", "refused", "fallback", "stopped", "model", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin[Conversation]):
    list_display = ("title", "user", "updated_at")
    inlines = [MessageInline]
    readonly_fields = ("user", "title")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    """Answers with their provenance, read-only: what was searched, retrieved, said and how fast."""

    list_display = ("conversation", "role", "confidence", "refused", "fallback", "model", "created_at")
    list_filter = ("role", "confidence", "refused", "fallback", "stopped")
    readonly_fields = [field.name for field in Message._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin[Feedback]):
    list_display = ("message", "user", "rating", "comment", "updated_at")
    list_filter = ("rating",)
    readonly_fields = ("message", "user", "rating", "comment", "created_at", "updated_at")
