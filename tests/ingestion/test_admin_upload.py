"""A knowledge admin uploads through the Django admin; a worker indexes it; access follows its groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ingestion.models import Document
from tests.conftest import BENEFITS_MD, TEST_FILES, wait_until_settled

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def english_client() -> Client:
    """The interface defaults to Spanish; these tests read the English messages."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def upload(client: Client, path, **fields):
    data = {"title": fields.pop("title"), "file": SimpleUploadedFile(path.name, path.read_bytes()), **fields}
    return client.post("/admin/ingestion/document/add/", data)


def test_knowledge_admin_uploads_a_restricted_document(worker, dana, alice, charlie):
    hr = Group.objects.get(name="hr")
    client = english_client()
    client.force_login(dana)
    response = upload(client, BENEFITS_MD, title="Beneficios", groups=[hr.pk])
    assert response.status_code == 302, response.content.decode()[:2000]
    [document] = wait_until_settled(list(Document.objects.all()))
    assert document.status == Document.Status.INDEXED
    assert document.owner == dana and not document.all_staff

    url = f"/documents/{document.pk}/"
    alice_client, charlie_client = english_client(), english_client()
    alice_client.force_login(alice)
    charlie_client.force_login(charlie)
    assert alice_client.get(url).status_code == 200
    assert charlie_client.get(url).status_code == 404  # "not allowed" looks like "does not exist"
    assert charlie_client.get(f"{url}original/").status_code == 404
    assert charlie_client.get("/documents/999999/").status_code == 404


def test_a_restricted_upload_without_groups_is_refused(dana):
    client = english_client()
    client.force_login(dana)
    response = upload(client, BENEFITS_MD, title="Beneficios")  # all_staff unticked, no groups
    assert response.status_code == 200
    assert "Choose the groups" in response.content.decode()
    assert not Document.objects.exists()


def test_a_corrupt_upload_fails_with_its_reason_shown_in_the_admin(worker, dana):
    client = english_client()
    client.force_login(dana)
    upload(client, TEST_FILES / "corrupt.pdf", title="Roto", all_staff="on")
    [document] = wait_until_settled(list(Document.objects.all()))
    assert document.status == Document.Status.FAILED
    listing = client.get("/admin/ingestion/document/").content.decode()
    assert "The PDF is damaged" in listing


def test_employees_cannot_reach_the_admin(charlie):
    client = english_client()
    client.force_login(charlie)
    assert client.get("/admin/ingestion/document/add/").status_code == 302


def test_bulk_upload_of_many_files_and_a_zip(worker, dana, tmp_path):
    import zipfile

    archive = tmp_path / "lote.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(TEST_FILES / "guide.md", "compras/guide.md")
        zipped.write(TEST_FILES / "intranet.html", "intranet.html")
        zipped.writestr("programa.exe", b"MZ")
    client = english_client()
    client.force_login(dana)
    uploads = [
        SimpleUploadedFile(path.name, path.read_bytes())
        for path in (TEST_FILES / "notes.txt", TEST_FILES / "handbook.docx", TEST_FILES / "corrupt.pdf", archive)
    ]
    page = client.get("/admin/ingestion/document/")
    assert "/admin/ingestion/document/bulk-upload/" in page.content.decode()
    response = client.post(
        "/admin/ingestion/document/bulk-upload/",
        {"uploads": uploads, "all_staff": "on", "tags": "lote, 2026"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/admin/ingestion/document/"
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["5 documents queued.", "programa.exe: Unsupported file type .exe."]
    documents = wait_until_settled(list(Document.objects.order_by("pk")))
    assert [d.original_name for d in documents] == [
        "notes.txt", "handbook.docx", "corrupt.pdf", "guide.md", "intranet.html"
    ]  # fmt: skip
    assert [d.status for d in documents] == ["indexed", "indexed", "failed", "indexed", "indexed"]
    assert all(d.tags == ["lote", "2026"] and d.owner == dana for d in documents)
    listing = client.get("/admin/ingestion/document/").content.decode()
    assert f'data-document="{documents[2].pk}" data-status="failed"' in listing
    assert "The PDF is damaged" in listing


def test_bulk_upload_refuses_oversized_files(dana, settings):
    settings.UPLOAD_MAX_BYTES = 10
    client = english_client()
    client.force_login(dana)
    form = client.get("/admin/ingestion/document/bulk-upload/").content.decode()
    assert 'name="uploads"' in form and "multiple" in form and 'name="groups"' in form
    response = client.post(
        "/admin/ingestion/document/bulk-upload/",
        {"uploads": [SimpleUploadedFile("notes.txt", (TEST_FILES / "notes.txt").read_bytes())], "all_staff": "on"},
    )
    assert response.status_code == 200
    assert "over the limit" in response.content.decode()
    assert not Document.objects.exists()
