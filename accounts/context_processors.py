"""What the top bar may offer the signed-in person, from the same gates the views enforce."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.gates import has_role
from accounts.roles import Role


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can_audit": False}
    can_audit = has_role(user, Role.AUDITOR)
    return {"can_audit": can_audit, "can_read_gaps": can_audit or has_role(user, Role.KNOWLEDGE_ADMIN)}
