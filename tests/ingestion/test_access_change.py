"""A change of a document's visibility takes effect in search at once, without re-embedding, and is audited."""

from __future__ import annotations

import pytest

from accounts.principals import principals_for_user
from governance.models import AuditEvent
from ingestion.embed import get_embedder
from ingestion.search import get_search_backend
from ingestion.services import document_access_changed, document_delete

pytestmark = pytest.mark.django_db

QUESTION = "¿Cuánto cuesta el seguro médico premium?"


def visible_documents(user) -> set[int]:
    vector = get_embedder().embed([QUESTION])[0]
    hits = get_search_backend().search(QUESTION, vector, principals=principals_for_user(user), k=10)
    return {hit.document_id for hit in hits}


def test_opening_and_closing_a_document_restamps_its_chunks(policies, charlie, dana):
    benefits = policies["benefits"]
    chunk_ids = list(benefits.chunks.values_list("chunk_id", flat=True))
    assert benefits.pk not in visible_documents(charlie)

    benefits.all_staff = True
    benefits.save(update_fields=["all_staff"])
    document_access_changed(document=benefits, actor=dana)
    assert benefits.pk in visible_documents(charlie)

    benefits.all_staff = False
    benefits.save(update_fields=["all_staff"])
    document_access_changed(document=benefits, actor=dana)
    assert benefits.pk not in visible_documents(charlie)

    assert list(benefits.chunks.values_list("chunk_id", flat=True)) == chunk_ids  # nothing re-embedded
    changes = AuditEvent.objects.filter(event_type="document.access_change", object_id=str(benefits.pk))
    assert [event.data["principals"] for event in changes.order_by("id")][-1] == ["group:hr", f"user:{dana.pk}"]
    assert changes.count() == 2 and {event.actor_username for event in changes} == {"dana"}


def test_upload_and_delete_are_audited(policies, dana):
    vacation = policies["vacation"]
    vacation_id = str(vacation.pk)  # deleting the row clears the instance's pk
    assert AuditEvent.objects.filter(event_type="document.upload", object_id=vacation_id).exists()
    document_delete(document=vacation, actor=dana)
    deleted = AuditEvent.objects.get(event_type="document.delete", object_id=vacation_id)
    assert deleted.actor_username == "dana" and deleted.data["title"] == vacation.title
