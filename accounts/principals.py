"""The one place that knows the access-principal format.

A principal is a string stamped on every indexed chunk and required by every search:
``public`` (all staff), ``group-id:<id>`` and ``user:<id>``. A user may see a chunk when the chunk's
principals and the user's principals intersect.

Groups are named by their primary key, never by their name: a name can change or be given to a new group
(renamed "hr", deleted "hr", then a new "hr" created by an admin or by SSO at sign-in), and a principal
built from it would hand the old group's documents to whoever holds the name next. A key is never given
out twice (PostgreSQL sequences; SQLite ``AUTOINCREMENT``, which Django uses for every auto field), so a
renamed group keeps its documents and a new group of any name starts with none. The prefix differs from
the ``group:<name>`` of earlier releases, so a chunk stamped before the change (an index restored from an
old snapshot) can never match a group by accident; ``manage.py restamp`` re-stamps every document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

PUBLIC = "public"


def group_principal(group_id: int) -> str:
    return f"group-id:{group_id}"


def user_principal(user_id: int) -> str:
    return f"user:{user_id}"


def principals_for_user(user: User | AnonymousUser) -> frozenset[str]:
    """What an active, authenticated member of staff may see. Anyone else sees nothing."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    group_ids = user.groups.values_list("pk", flat=True)
    return frozenset({PUBLIC, user_principal(user.pk), *(group_principal(pk) for pk in group_ids)})


def principals_for_document(*, all_staff: bool, group_ids: Iterable[int], owner_id: int | None) -> frozenset[str]:
    """Principals stamped on a document's chunks: all staff, or its groups (and always its owner)."""
    principals = {group_principal(pk) for pk in group_ids}
    if all_staff:
        principals.add(PUBLIC)
    if owner_id is not None:
        principals.add(user_principal(owner_id))
    return frozenset(principals)
