"""A knowledge admin uploads through the Django admin; a worker indexes it; access follows its groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ingestion.models import Document
from tests.conftest import BENEFITS_MD, TEST_FILES, wait_until_settled

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def upload(client: Client, path, **fields):
    data = {"title": fields.pop("title"), "file": SimpleUploadedFile(path.name, path.read_bytes()), **fields}
    return client.post("/admin/ingestion/document/add/", data)


def test_knowledge_admin_uploads_a_restricted_document(worker, dana, alice, charlie):
    hr = Group.objects.get(name="hr")
    client = Client()
    client.force_login(dana)
    response = upload(client, BENEFITS_MD, title="Beneficios", groups=[hr.pk])
    assert response.status_code == 302, response.content.decode()[:2000]
    [document] = wait_until_settled(list(Document.objects.all()))
    assert document.status == Document.Status.INDEXED
    assert document.owner == dana and not document.all_staff

    url = f"/documents/{document.pk}/"
    alice_client, charlie_client = Client(), Client()
    alice_client.force_login(alice)
    charlie_client.force_login(charlie)
    assert alice_client.get(url).status_code == 200
    assert charlie_client.get(url).status_code == 404  # "not allowed" looks like "does not exist"
    assert charlie_client.get(f"{url}original/").status_code == 404
    assert charlie_client.get("/documents/999999/").status_code == 404


def test_a_restricted_upload_without_groups_is_refused(dana):
    client = Client()
    client.force_login(dana)
    response = upload(client, BENEFITS_MD, title="Beneficios")  # all_staff unticked, no groups
    assert response.status_code == 200
    assert "Choose the groups" in response.content.decode()
    assert not Document.objects.exists()


def test_a_corrupt_upload_fails_with_its_reason_shown_in_the_admin(worker, dana):
    client = Client()
    client.force_login(dana)
    upload(client, TEST_FILES / "corrupt.pdf", title="Roto", all_staff="on")
    [document] = wait_until_settled(list(Document.objects.all()))
    assert document.status == Document.Status.FAILED
    listing = client.get("/admin/ingestion/document/").content.decode()
    assert "The PDF is damaged" in listing


def test_employees_cannot_reach_the_admin(charlie):
    client = Client()
    client.force_login(charlie)
    assert client.get("/admin/ingestion/document/add/").status_code == 302
