"""A sync's live progress, like an upload's: "Sync now" shows the source queued, and the watchers of
/ws/ingestion/progress/ (full ASGI stack) see it move through syncing n/m to synced with its counts, in their
own language; a page that polls gets the saved state; staff who may not see sources get nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import User
from sources import progress
from sources.models import Source
from sources.services import source_sync
from tests.conftest import make_user
from tests.ingestion.test_progress import session_cookie
from tests.sources.conftest import sync_and_index

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user: User, language: str) -> WebsocketCommunicator:
    from django.conf import settings

    from config.asgi import application

    cookie = await database_sync_to_async(session_cookie)(user)
    headers = [
        (b"host", b"localhost"),
        (b"origin", b"http://localhost"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        (b"accept-language", language.encode()),
    ]
    communicator = WebsocketCommunicator(application, "/ws/ingestion/progress/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def until_settled(communicator: WebsocketCommunicator, source_id: int) -> list[dict[str, Any]]:
    events = []
    while True:
        event = await communicator.receive_json_from(timeout=60)
        if event.get("type") != "source_progress" or event["source_id"] != source_id:
            continue
        events.append(event)
        if event["status"] in ("ok", "failed"):
            return events


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for n in range(3):
        (tmp_path / f"norma-{n}.md").write_text(f"# Norma {n}\n\nTexto de la norma {n} ortoclasia.\n")
    return tmp_path


@pytest.fixture
def source(db: None, folder: Path) -> Source:
    return Source.objects.create(name="normas", kind=Source.Kind.FOLDER, location=str(folder), all_staff=True)


async def test_a_knowledge_admin_watches_a_sync_from_queued_to_its_counts(
    source: Source, folder: Path, dana: User, search_index: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "MIN_INTERVAL_SECONDS", 0)  # every step, not one a second: the sync is quick
    communicator = await connect(dana, "es-ES,es;q=0.9")
    client = Client()
    await database_sync_to_async(client.force_login)(dana)

    # "Sync now": the source is queued at once (no worker runs here; the test syncs it below).
    response = await database_sync_to_async(client.post)(
        "/admin/sources/source/", {"action": "sync_now", "_selected_action": [source.pk]}
    )
    assert response.status_code == 302
    queued = await communicator.receive_json_from(timeout=10)
    assert (queued["source_id"], queued["status"], queued["text"]) == (source.pk, "queued", "en cola")

    task = asyncio.ensure_future(database_sync_to_async(source_sync)(source_id=source.pk, queue=False))
    events = await until_settled(communicator, source.pk)
    await task

    assert events[0]["status"] == "running" and events[0]["total"] is None
    assert any(event["status"] == "running" and event["total"] == 3 for event in events)
    assert any(event["text"].startswith("sincronizando ") for event in events)  # in the watcher's language
    last = events[-1]
    assert (last["text"], last["added"], last["changed"], last["removed"], last["failed"]) == (
        "sincronizada",
        3,
        0,
        0,
        0,
    )
    assert (last["done"], last["total"]) == (3, 3) and last["finished_label"]

    # A re-sync after an edit and a removal: the counts are that sync's.
    (folder / "norma-0.md").write_text("# Norma 0\n\nOtro texto.\n")
    (folder / "norma-2.md").unlink()
    task = asyncio.ensure_future(database_sync_to_async(source_sync)(source_id=source.pk, queue=False))
    last = (await until_settled(communicator, source.pk))[-1]
    await task
    assert (last["added"], last["changed"], last["removed"], last["done"], last["total"]) == (0, 1, 1, 3, 3)

    # A page that opens later (or runs beside a worker without a shared channel layer) asks for it.
    await communicator.send_json_to({"type": "refresh", "sources": [source.pk]})
    saved = await communicator.receive_json_from(timeout=10)
    assert (saved["type"], saved["status"], saved["changed"], saved["text"]) == (
        "source_progress",
        "ok",
        1,
        "sincronizada",
    )
    await communicator.disconnect()


def _document_viewer() -> User:
    """Staff who may watch uploads but not sources: an auditor."""
    return make_user("sam", "auditors", is_staff=True)


async def test_staff_who_may_not_see_sources_get_no_sync_progress(source: Source, search_index: object) -> None:
    sam = await database_sync_to_async(_document_viewer)()
    communicator = await connect(sam, "en")

    await database_sync_to_async(source_sync)(source_id=source.pk, queue=False)
    await communicator.send_json_to({"type": "refresh", "sources": [source.pk]})

    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()


def test_the_list_shows_a_queued_source_and_a_finished_sync_counts(
    source: Source, dana: User, search_index: object
) -> None:
    sync_and_index(source.pk)
    client = Client()
    client.force_login(dana)

    english = {"accept-language": "en"}

    page = client.get("/admin/sources/source/", headers=english).content.decode()
    assert f'data-source="{source.pk}" data-status="ok">synced</span>' in page
    assert "sources/progress.js" in page
    client.post("/admin/sources/source/", {"action": "sync_now", "_selected_action": [source.pk]})

    page = client.get("/admin/sources/source/").content.decode()  # Spanish, the default
    assert f'data-source="{source.pk}" data-status="queued">en cola</span>' in page


async def test_a_knowledge_admin_removed_from_the_role_stops_getting_sync_progress(
    source: Source, dana: User, search_index: object
) -> None:
    communicator = await connect(dana, "en")
    await database_sync_to_async(source_sync)(source_id=source.pk, queue=False)
    assert (await until_settled(communicator, source.pk))[-1]["status"] == "ok"

    await database_sync_to_async(dana.groups.clear)()
    await database_sync_to_async(source_sync)(source_id=source.pk, queue=False)

    assert await communicator.receive_nothing(timeout=1)  # asked as stored now, not as the socket opened
    await communicator.disconnect()
