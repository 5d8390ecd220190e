"""Roles are Django groups with a fixed set of permissions, kept in step after every ``migrate``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

KNOWLEDGE_ADMINS = "knowledge-admins"
AUDITORS = "auditors"

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    KNOWLEDGE_ADMINS: (
        "ingestion.add_document",
        "ingestion.change_document",
        "ingestion.delete_document",
        "ingestion.view_document",
        "ingestion.view_chunk",
    ),
    AUDITORS: ("chatbot.view_conversation", "chatbot.view_message", "ingestion.view_document"),
}


def roles_ensure(**_: Any) -> None:
    """Create the role groups and grant exactly their permissions (idempotent)."""
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get_or_create(name=role)[0]
        permissions: list[Permission] = []
        for name in names:
            app_label, codename = name.split(".")
            permissions.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(permissions)
