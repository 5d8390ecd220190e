"""An access change made in the admin reaches search in the same request, whatever else the edit changes, and
whether or not the re-index that follows succeeds.

The rule (``ingestion.services.document_update``): while a document's new version (or new title) waits for
the worker, its previous version keeps being served under the document's *new* principals; if that re-index
fails, the document is withdrawn from search until a working file is indexed.

The index is re-stamped when the admin's transaction commits (``document_access_changed``), never before:
an edit that rolls back leaves the index as it was. ``django_db`` never commits, so ``edit`` runs what a
commit runs (the re-stamp, and queueing the re-index for a worker); no worker runs here, so every search
below happens "before the worker runs", then the worker's own service is called to play the failed re-index.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from accounts.models import User
from accounts.principals import principals_for_user
from ingestion.admin import DocumentAdmin
from ingestion.embed import get_embedder
from ingestion.models import Document
from ingestion.pipeline import document_ingest
from ingestion.search import get_search_backend
from tests.conftest import BENEFITS_MD, TEST_FILES, index_document

pytestmark = pytest.mark.django_db

QUESTION = "¿Cuánto cuesta el seguro médico premium?"


def found(user: User, document: Document) -> bool:
    vector = get_embedder().embed([QUESTION])[0]
    hits = get_search_backend().search(QUESTION, vector, principals=principals_for_user(user), k=20)
    return document.pk in {hit.document_id for hit in hits}


def edit(
    admin: User,
    document: Document,
    *,
    groups: list[str],
    all_staff: bool,
    file: Path | None = None,
    status: int = 302,
    **fields,
):
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    client.force_login(admin)
    data = {
        "title": fields.get("title", document.title),
        "tags": fields.get("tags", ", ".join(document.tags)),
        "effective_date": "",
        "groups": [Group.objects.get_or_create(name=name)[0].pk for name in groups],
    }
    if all_staff:
        data["all_staff"] = "on"
    if file is not None:
        data["file"] = SimpleUploadedFile(file.name, file.read_bytes())
    with TestCase.captureOnCommitCallbacks(execute=True):  # what the admin's commit runs
        response = client.post(f"/admin/ingestion/document/{document.pk}/change/", data)
    assert response.status_code == status, response.content.decode()[:3000]
    return Document.objects.get(pk=document.pk)


@pytest.fixture
def public_benefits(search_index: object, dana: User) -> Document:
    return index_document(BENEFITS_MD, title="Beneficios sociales y retribución 2026", owner=dana)


def test_restricting_with_a_tag_change_reaches_search_before_the_worker_runs(public_benefits, alice, charlie, dana):
    assert found(charlie, public_benefits)
    edit(dana, public_benefits, groups=["hr"], all_staff=False, tags="rrhh, 2026")
    assert not found(charlie, public_benefits)
    assert found(alice, public_benefits)  # the people it is now for still find it


def test_restricting_with_a_new_title_serves_the_previous_version_only_to_the_new_groups(
    public_benefits, alice, charlie, dana
):
    document = edit(dana, public_benefits, groups=["hr"], all_staff=False, title="Beneficios (RR. HH.)")
    assert document.status == Document.Status.PENDING  # the title is in the chunks: re-indexed
    assert not found(charlie, document)
    assert found(alice, document)


def test_restricting_with_a_new_file_that_fails_to_index_never_serves_anyone_outside(
    public_benefits, alice, charlie, dana
):
    document = edit(dana, public_benefits, groups=["hr"], all_staff=False, file=TEST_FILES / "corrupt.pdf")
    assert document.status == Document.Status.PENDING and document.version == 2
    assert not found(charlie, document)  # before the worker runs
    assert found(alice, document)  # the previous version, for the new groups only

    document = document_ingest(document_id=document.pk)  # the worker: the new file is damaged
    assert document.status == Document.Status.FAILED
    assert not found(charlie, document)
    assert not found(alice, document)  # a failed re-index withdraws the document
    assert not document.chunks.exists() and document.chunk_count == 0


def test_opening_with_a_new_title_serves_the_previous_version_to_everyone_at_once(search_index, alice, charlie, dana):
    benefits = index_document(BENEFITS_MD, title="Beneficios", owner=dana, groups=("hr",))
    assert not found(charlie, benefits)
    edit(dana, benefits, groups=[], all_staff=True, title="Beneficios para toda la plantilla")
    assert found(charlie, benefits)


def test_an_edit_that_rolls_back_leaves_the_index_as_it_was(search_index, alice, charlie, dana, monkeypatch):
    """The access change is saved, then a later step of the same admin request fails (here the admin's own
    change log): the transaction rolls back, and the index must not keep the access it never committed."""
    benefits = index_document(BENEFITS_MD, title="Beneficios", owner=dana, groups=("hr",))

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the change log could not be written")

    monkeypatch.setattr(DocumentAdmin, "log_change", fail)
    edit(dana, benefits, groups=["sales"], all_staff=True, status=500)

    benefits.refresh_from_db()
    assert not benefits.all_staff and list(benefits.groups.values_list("name", flat=True)) == ["hr"]
    assert not found(charlie, benefits)  # opened to all staff and to Sales in a change that never happened
    assert found(alice, benefits)
