"""Stage and percent saved and pushed live to staff through /ws/ingestion/progress/ (full ASGI stack)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import User
from config.asgi import application
from ingestion import consumers
from ingestion.models import Document
from ingestion.pipeline import document_ingest
from ingestion.progress import PROGRESS_GROUP
from ingestion.services import document_register
from tests.conftest import TEST_FILES, make_user
from tests.system_packages import requires_ocr

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def connect(user) -> tuple[bool, WebsocketCommunicator]:
    cookie = await database_sync_to_async(session_cookie)(user)
    headers = [
        (b"host", b"localhost"),
        (b"origin", b"http://localhost"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        (b"accept-language", b"en-US,en;q=0.8"),
    ]
    communicator = WebsocketCommunicator(application, "/ws/ingestion/progress/", headers=headers)
    connected, _ = await communicator.connect()
    return connected, communicator


async def collect(communicator: WebsocketCommunicator, document_id: int) -> list[dict[str, Any]]:
    events = []
    while True:
        event = await communicator.receive_json_from(timeout=120)
        if event["document_id"] == document_id:
            events.append(event)
        if event["status"] in ("indexed", "failed"):
            return events


@requires_ocr
async def test_staff_watch_stages_and_ocr_pages_live(search_index, dana):
    connected, communicator = await connect(dana)
    assert connected
    document = await database_sync_to_async(document_register)(
        path=TEST_FILES / "mixed-scan.pdf", title="Permisos", owner=dana, queue=False
    )
    run = database_sync_to_async(document_ingest)(document_id=document.pk)
    task = asyncio.ensure_future(run)
    events = await collect(communicator, document.pk)
    await task
    stages = [event["stage"] for event in events]
    for stage in ("parsing", "ocr", "chunking", "embedding", "indexing", "done"):
        assert stage in stages
    assert stages.index("parsing") < stages.index("ocr") < stages.index("embedding") < stages.index("done")
    assert any(event["detail"] == "OCR page 1/1" for event in events)
    assert events[-1]["status"] == "indexed" and events[-1]["progress"] == 100 and events[-1]["chunk_count"] > 0
    assert (events[-1]["status_label"], events[-1]["stage_label"]) == ("indexed", "done")  # the watcher's language

    # A page that opens later asks for the saved state.
    await communicator.send_json_to({"type": "refresh", "documents": [document.pk]})
    snapshot = await communicator.receive_json_from(timeout=10)
    assert (snapshot["document_id"], snapshot["status"], snapshot["stage"]) == (document.pk, "indexed", "done")
    await communicator.disconnect()


async def test_a_failure_is_pushed_with_its_reason(search_index, dana):
    connected, communicator = await connect(dana)
    assert connected
    document = await database_sync_to_async(document_register)(
        path=TEST_FILES / "encrypted.pdf", title="Cifrado", owner=dana, queue=False
    )
    await database_sync_to_async(document_ingest)(document_id=document.pk)
    events = await collect(communicator, document.pk)
    assert events[-1]["status"] == "failed" and "password-protected" in events[-1]["reason"]
    await communicator.disconnect()


REFUSED = {"type": "websocket.close", "code": 4403}


async def test_employees_and_staff_without_the_permission_are_accepted_then_closed_with_4403(charlie):
    # Accepted first, as the chat socket: a close before accept is a failed handshake, so the page never
    # learned 4403 (its "stop trying") and reconnected every 5 s.
    for user in (charlie, await database_sync_to_async(make_user)("sam", is_staff=True)):
        connected, communicator = await connect(user)
        assert connected
        assert await communicator.receive_output(timeout=10) == REFUSED
        await communicator.disconnect()


def _admin_document_list_opens(user: User) -> bool:
    client = Client()
    client.force_login(user)
    return client.get("/admin/ingestion/document/").status_code == 200


def _edge_users() -> list[User]:
    # is_staff without a role, holding the permission directly: the admin refuses them.
    sam = make_user("sam", is_staff=True)
    sam.user_permissions.add(Permission.objects.get(content_type__app_label="ingestion", codename="view_document"))
    # A knowledge admin whose is_staff flag was left off (the role is the group): the admin admits them.
    kim = make_user("kim", "knowledge-admins")
    return [sam, kim, User.objects.create_superuser("root", password="pw-root")]


async def test_the_socket_admits_exactly_whom_the_admins_document_list_admits(charlie, dana, auditor):
    users = [charlie, dana, auditor, *await database_sync_to_async(_edge_users)()]
    admitted = []
    for user in users:
        connected, communicator = await connect(user)
        assert connected
        await communicator.send_json_to({"type": "hello"})  # a watcher is answered; anyone else was closed
        first = await communicator.receive_output(timeout=10)
        watching = first["type"] == "websocket.send"
        assert watching or first == REFUSED
        assert watching == await database_sync_to_async(_admin_document_list_opens)(user), user.username
        if watching:
            admitted.append(user.username)
        await communicator.disconnect()
    assert admitted == ["dana", "audrey", "kim", "root"]


async def test_a_watcher_signed_out_or_disabled_since_opening_is_refused_at_the_next_refresh(dana):
    for change in ("sign out", "disable"):
        connected, communicator = await connect(dana)
        assert connected
        if change == "sign out":
            await Session.objects.all().adelete()
        else:
            await User.objects.filter(pk=dana.pk).aupdate(is_active=False)
        await communicator.send_json_to({"type": "refresh", "documents": []})
        assert await communicator.receive_output(timeout=10) == REFUSED
        await communicator.disconnect()


async def test_pushed_events_stop_once_the_watcher_lost_the_role(dana, monkeypatch):
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0)  # every event asks again
    event = {
        "type": "document.progress",
        "document_id": 1,
        "status": "processing",
        "stage": "parsing",
        "progress": 10,
        "detail": "",
        "reason": "",
        "chunk_count": 0,
    }
    connected, communicator = await connect(dana)
    assert connected
    layer = get_channel_layer()
    await layer.group_send(PROGRESS_GROUP, event)
    assert (await communicator.receive_json_from(timeout=10))["progress"] == 10
    await database_sync_to_async(lambda: dana.groups.clear())()  # no longer a knowledge admin
    await layer.group_send(PROGRESS_GROUP, event)
    assert await communicator.receive_output(timeout=10) == REFUSED
    await communicator.disconnect()


async def test_progress_is_saved_for_pages_that_poll(search_index, dana):
    document = await database_sync_to_async(document_register)(
        path=TEST_FILES / "notes.txt", title="Notas", owner=dana, queue=False
    )
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(PROGRESS_GROUP, channel)
    await database_sync_to_async(document_ingest)(document_id=document.pk)
    saved = await Document.objects.aget(pk=document.pk)
    assert (saved.status, saved.stage, saved.progress) == ("indexed", "done", 100)
    first = await layer.receive(channel)
    assert first["type"] == "document.progress" and first["document_id"] == document.pk
