from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from governance.audit import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(dana, charlie):
    audit_record(event_type="document.upload", actor=dana, object_type="document", object_id=7, data={"title": "A"})
    audit_record(event_type="chat.turn", actor=charlie, data={"question": "<PERSON_x> pregunta"})
    audit_record(event_type="document.delete", actor=dana, object_type="document", object_id=8)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def table(client: Client, **query: str) -> str:
    page = client.get("/audit/", query).content.decode()
    return page.split("<tbody>")[1].split("</tbody>")[0]


def test_auditor_filters_by_user_type_and_document(events, auditor):
    client = client_for(auditor)
    rows = table(client, username="dana")
    assert "document.upload" in rows and "document.delete" in rows and "chat.turn" not in rows
    rows = table(client, document="7")
    assert "document.upload" in rows and "document.delete" not in rows
    rows = table(client, event_type="chat.turn")
    assert "charlie" in rows and "dana" not in rows


def test_exports_csv_and_jsonl(events, auditor):
    client = client_for(auditor)
    response = client.get("/audit/", {"format": "csv", "username": "dana"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert rows[0][:5] == ["id", "created_at", "actor_id", "actor_username", "event_type"]
    assert [row[4] for row in rows[1:]] == ["document.delete", "document.upload"]
    response = client.get("/audit/", {"format": "jsonl", "username": "charlie"})
    lines = b"".join(response.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert [json.loads(line)["event_type"] for line in lines] == ["chat.turn"]


def test_employees_and_knowledge_admins_cannot_read_the_audit_log(events, charlie, dana):
    assert client_for(charlie).get("/audit/").status_code == 403
    assert client_for(dana).get("/audit/").status_code == 403
    assert Client().get("/audit/").status_code == 302
