"""The four roles and how they are stored.

- employee: every active member of staff; chats and sees documents through their groups.
- knowledge admin: uploads and manages documents and who may see them (the ``knowledge-admins`` group).
- auditor: reads conversations, the audit log and evaluations (the ``auditors`` group).
- administrator: everything, including users and roles (Django's ``is_superuser``).

Role groups are Django groups with a fixed set of permissions, kept in step after every ``migrate``. They
grant permissions, never document visibility: identity-provider group mappings cannot target them (see
``accounts.sso``), so only a role mapping or an administrator makes someone a knowledge admin.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.contrib.auth.models import Group, Permission

KNOWLEDGE_ADMINS = "knowledge-admins"
AUDITORS = "auditors"


class Role(StrEnum):
    EMPLOYEE = "employee"
    KNOWLEDGE_ADMIN = "knowledge-admin"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


# The roles held through membership of a group (administrator is ``is_superuser``; employee is everyone).
ROLE_GROUPS: dict[Role, str] = {Role.KNOWLEDGE_ADMIN: KNOWLEDGE_ADMINS, Role.AUDITOR: AUDITORS}
# Roles that open the admin site (``is_staff`` is kept equal to holding one of them).
STAFF_ROLES = frozenset({Role.KNOWLEDGE_ADMIN, Role.AUDITOR, Role.ADMINISTRATOR})

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    KNOWLEDGE_ADMINS: (
        "ingestion.add_document",
        "ingestion.change_document",
        "ingestion.delete_document",
        "ingestion.view_document",
        "ingestion.view_chunk",
        # Tone tuning: examples, the review queue of 👍 answers, snapshots and runs (their actions are
        # services gated on this role).
        "tuning.add_toneexample",
        "tuning.change_toneexample",
        "tuning.delete_toneexample",
        "tuning.view_toneexample",
        "tuning.view_answerreview",
        "tuning.view_datasetsnapshot",
        "tuning.view_tuningrun",
        # Synced sources (sources/): their documents get the source's access.
        "sources.add_source",
        "sources.change_source",
        "sources.delete_source",
        "sources.view_source",
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
