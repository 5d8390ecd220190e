"""A deleted group's documents are re-stamped at once, whatever deleted it (the admin, a shell, a script).

Principals name groups by key (``accounts.principals``), and keys are never given out again, so a group
created later, with the deleted one's name or any other, cannot reach its documents even without this.
The re-stamp keeps the index what the database says: the deleted group's principal leaves every chunk, and
each document gets its ``document.access_change`` audit event with the access it keeps (all staff, its
other groups, its owner), like any other access change; the index is written when the deletion commits.
A rename changes no principal, so it needs nothing here (``governance.signals`` records it).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db.models.signals import post_delete, pre_delete

from ingestion.models import Document


def on_group_deleting(sender: Any, instance: Group, **_: Any) -> None:
    # Read before the deletion removes the group's document links with it.
    instance._faro_documents = list(  # type: ignore[attr-defined]
        Document.objects.filter(groups=instance).values_list("pk", flat=True)
    )


def on_group_deleted(sender: Any, instance: Group, **_: Any) -> None:
    from ingestion.services import document_access_changed  # not at start-up: the services import numpy

    for document in Document.objects.filter(pk__in=getattr(instance, "_faro_documents", ())).order_by("pk"):
        document_access_changed(document=document, actor=None)


def connect() -> None:
    pre_delete.connect(on_group_deleting, sender=Group, dispatch_uid="ingestion.group_deleting")
    post_delete.connect(on_group_deleted, sender=Group, dispatch_uid="ingestion.group_deleted")
