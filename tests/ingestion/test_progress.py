"""Stage and percent saved and pushed live to staff through /ws/ingestion/progress/ (full ASGI stack)."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application
from ingestion.models import Document
from ingestion.progress import PROGRESS_GROUP
from ingestion.services import document_ingest, document_register
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


async def collect(communicator: WebsocketCommunicator, document_id: int) -> list[dict]:
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


async def test_employees_and_staff_without_the_permission_cannot_watch(charlie):
    for user in (charlie, await database_sync_to_async(make_user)("sam", is_staff=True)):
        connected, communicator = await connect(user)
        assert not connected
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
