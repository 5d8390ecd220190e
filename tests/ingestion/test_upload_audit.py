"""One path per action: an upload through the admin's form, the admin's bulk upload and ``manage.py ingest`` all
go through ``document_register``, and a new version through the form or the command through
``document_new_version``, so each writes the same audit events (the admin adds its own ``admin.change`` log on
top of them)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from governance.models import AuditEvent
from ingestion.models import Document

pytestmark = pytest.mark.django_db

FIRST = "Notas de la oficina\n\nLa oficina abre de 8:00 a 20:00.\n"
SECOND = "Notas de la oficina\n\nLa oficina abre de 7:30 a 21:00 desde marzo.\n"


def document_events(document: Document) -> list[tuple[str, str, dict[str, Any]]]:
    """What the services recorded about the document: (event, who, data), oldest first."""
    events = AuditEvent.objects.filter(object_type="document", object_id=str(document.pk)).order_by("id")
    return [(event.event_type, event.actor_username, event.data) for event in events]


def written(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def admin_client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_form_the_bulk_upload_and_the_command_record_the_same_upload(dana, tmp_path, search_index):
    hr = Group.objects.get_or_create(name="hr")[0]
    notes = written(tmp_path, "notas.txt", FIRST)
    client = admin_client(dana)

    response = client.post(
        "/admin/ingestion/document/add/",
        {"title": "notas", "file": SimpleUploadedFile("notas.txt", notes.read_bytes()), "groups": [hr.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    single = Document.objects.get()

    response = client.post(
        "/admin/ingestion/document/bulk-upload/",
        {"uploads": [SimpleUploadedFile("notas.txt", notes.read_bytes())], "groups": [hr.pk]},
    )
    assert response.status_code == 302
    bulk = Document.objects.exclude(pk=single.pk).get()

    call_command("ingest", str(notes), "--groups", "hr", stdout=StringIO(), stderr=StringIO())
    command = Document.objects.exclude(pk__in=[single.pk, bulk.pk]).get()

    assert document_events(single) == document_events(bulk)
    [(event, actor, data)] = document_events(single)
    assert (event, actor) == ("document.upload", "dana")
    assert data["principals"] == [f"group-id:{hr.pk}", f"user:{dana.pk}"] and data["title"] == "notas"
    # The command has no person behind it, so no actor and no owner principal; otherwise the same event.
    assert document_events(command) == [("document.upload", "", {**data, "principals": [f"group-id:{hr.pk}"]})]
    # The admin's own log of the form comes on top, as for any model it edits.
    assert AuditEvent.objects.filter(event_type="admin.change", object_id=str(single.pk)).count() == 1


def test_a_new_version_through_the_form_is_recorded_as_the_command_records_it(dana, tmp_path, search_index):
    client = admin_client(dana)
    client.post(
        "/admin/ingestion/document/add/",
        {"title": "notas", "file": SimpleUploadedFile("notas.txt", FIRST.encode()), "all_staff": "on"},
    )
    through_form = Document.objects.get()
    response = client.post(
        f"/admin/ingestion/document/{through_form.pk}/change/",
        {"title": "notas", "file": SimpleUploadedFile("notas.txt", SECOND.encode()), "all_staff": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]

    source = written(tmp_path, "notas.txt", FIRST)
    call_command("ingest", str(source), stdout=StringIO(), stderr=StringIO())
    source.write_text(SECOND)
    call_command("ingest", str(source), stdout=StringIO(), stderr=StringIO())
    through_command = Document.objects.exclude(pk=through_form.pk).get()

    form_events = document_events(through_form)[1:]
    command_events = document_events(through_command)[1:]
    assert [event for event, _, _ in form_events] == ["document.new_version"]
    assert [(event, data) for event, _, data in form_events] == [(event, data) for event, _, data in command_events]
    assert form_events[0][1] == "dana"  # the form knows who did it
    assert form_events[0][2]["version"] == 2
