"""The one place that knows the access-principal format.

A principal is a string stamped on every indexed chunk and required by every search:
``public`` (all staff), ``group:<name>`` and ``user:<id>``. A user may see a chunk when the chunk's
principals and the user's principals intersect.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

PUBLIC = "public"


def group_principal(group_name: str) -> str:
    return f"group:{group_name}"


def user_principal(user_id: int) -> str:
    return f"user:{user_id}"


def principals_for_user(user: User | AnonymousUser) -> frozenset[str]:
    """What an active, authenticated member of staff may see. Anyone else sees nothing."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    names = user.groups.values_list("name", flat=True)
    return frozenset({PUBLIC, user_principal(user.pk), *(group_principal(name) for name in names)})


def principals_for_document(*, all_staff: bool, group_names: Iterable[str], owner_id: int | None) -> frozenset[str]:
    """Principals stamped on a document's chunks: all staff, or its groups (and always its owner)."""
    principals = {group_principal(name) for name in group_names}
    if all_staff:
        principals.add(PUBLIC)
    if owner_id is not None:
        principals.add(user_principal(owner_id))
    return frozenset(principals)
