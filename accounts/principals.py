"""The one place that knows the access-principal format.

A principal is a string stamped on every indexed chunk and required by every search:
``public`` (all staff), ``group-id:<id>`` and ``user:<id>``.

The visibility rule, written once: a user may see a document (and its chunks) when the document's
principals and the user's principals intersect (``may_see``). The search indexes, which hold each chunk's
principals, test the intersection; the database, which holds a document's access as fields, asks
``visible_documents`` what those fields must be: the same rule read from the document's side.

Groups are named by their primary key, never by their name: a name can change or be given to a new group
(renamed "hr", deleted "hr", then a new "hr" created by an admin or by SSO at sign-in), and a principal
built from it would hand the old group's documents to whoever holds the name next. A key is never given
out twice (PostgreSQL sequences; SQLite ``AUTOINCREMENT``, which Django uses for every auto field), so a
renamed group keeps its documents and a new group of any name starts with none. The prefix differs from
the ``group:<name>`` of earlier releases, so a chunk stamped before the change (an index restored from an
old snapshot) can never match a group by accident; ``manage.py restamp`` re-stamps every document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
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


def may_see(user_principals: Set[str], document_principals: Set[str]) -> bool:
    """The visibility rule: a document is for the user when it carries one of the user's principals."""
    return not user_principals.isdisjoint(document_principals)


@dataclass(frozen=True)
class VisibleDocuments:
    """The documents ``may_see`` lets someone holding given principals see, by the fields that
    ``principals_for_document`` reads: for all staff, for one of these groups, or owned by one of these
    people (any one suffices)."""

    all_staff: bool
    group_ids: frozenset[int]
    owner_ids: frozenset[int]


def visible_documents(user_principals: Iterable[str]) -> VisibleDocuments:
    """``may_see`` from the document's side: ``principals_for_document(**fields)`` meets ``user_principals``
    exactly when the fields match the answer (``tests/test_permissions_property.py`` checks both sides)."""
    principals = frozenset(user_principals)
    return VisibleDocuments(
        all_staff=PUBLIC in principals,
        group_ids=_ids(principals, group_principal),
        owner_ids=_ids(principals, user_principal),
    )


def _ids(principals: frozenset[str], principal: Callable[[int], str]) -> frozenset[int]:
    """The ids of the principals ``principal(id)`` makes, read back through its own format."""
    prefix = principal(0).removesuffix("0")
    return frozenset(int(p.removeprefix(prefix)) for p in principals if p.startswith(prefix))
