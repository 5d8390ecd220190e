"""A change of a document's visibility takes effect in search as it commits, without re-embedding, and is
audited; a change that rolls back never reaches the index."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

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


def test_opening_and_closing_a_document_restamps_its_chunks(
    policies, charlie, dana, django_capture_on_commit_callbacks
):
    benefits = policies["benefits"]
    chunk_ids = list(benefits.chunks.values_list("chunk_id", flat=True))
    assert benefits.pk not in visible_documents(charlie)

    benefits.all_staff = True
    benefits.save(update_fields=["all_staff"])
    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction never commits
        document_access_changed(document=benefits, actor=dana)
    assert benefits.pk in visible_documents(charlie)

    benefits.all_staff = False
    benefits.save(update_fields=["all_staff"])
    with django_capture_on_commit_callbacks(execute=True):
        document_access_changed(document=benefits, actor=dana)
    assert benefits.pk not in visible_documents(charlie)

    assert list(benefits.chunks.values_list("chunk_id", flat=True)) == chunk_ids  # nothing re-embedded
    changes = AuditEvent.objects.filter(event_type="document.access_change", object_id=str(benefits.pk))
    hr = Group.objects.get(name="hr")
    last = changes.order_by("id").last()
    assert last is not None
    assert last.data == {"principals": sorted([f"group-id:{hr.pk}", f"user:{dana.pk}"]), "groups": ["hr"]}
    assert changes.count() == 2 and {event.actor_username for event in changes} == {"dana"}


def test_the_index_is_written_when_the_change_commits_never_before(
    policies, charlie, dana, django_capture_on_commit_callbacks
):
    benefits = policies["benefits"]
    with django_capture_on_commit_callbacks() as pending:
        benefits.all_staff = True
        benefits.save(update_fields=["all_staff"])
        document_access_changed(document=benefits, actor=dana)
        assert benefits.pk not in visible_documents(charlie)  # not committed yet: the index is as it was
    assert len(pending) == 1
    pending[0]()  # the commit
    assert benefits.pk in visible_documents(charlie)


def test_a_change_that_rolls_back_leaves_the_index_as_it_was(
    policies, alice, charlie, dana, django_capture_on_commit_callbacks
):
    benefits = policies["benefits"]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            benefits.all_staff = True
            benefits.save(update_fields=["all_staff"])
            document_access_changed(document=benefits, actor=dana)
            raise RuntimeError("a later step of the same request failed")
    benefits.refresh_from_db()
    assert not benefits.all_staff
    assert benefits.pk not in visible_documents(charlie)
    assert benefits.pk in visible_documents(alice)


def test_upload_and_delete_are_audited(policies, dana):
    vacation = policies["vacation"]
    vacation_id = str(vacation.pk)  # deleting the row clears the instance's pk
    assert AuditEvent.objects.filter(event_type="document.upload", object_id=vacation_id).exists()
    document_delete(document=vacation, actor=dana)
    deleted = AuditEvent.objects.get(event_type="document.delete", object_id=vacation_id)
    assert deleted.actor_username == "dana" and deleted.data["title"] == vacation.title
