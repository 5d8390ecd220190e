from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class FaroUserAdmin(UserAdmin):
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Faro", {"fields": ("department",)}))
    list_display = ("username", "email", "department", "is_staff", "is_active")
