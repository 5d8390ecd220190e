"""The chat websocket through the full ASGI stack (origin check, session auth), the real embedded search
and the real local model."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from chatbot.models import Message
from config.asgi import application

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VACATION_QUESTION = "¿Cuántos días de vacaciones tengo al año?"


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def connect(user=None, origin: str = "http://localhost") -> WebsocketCommunicator:
    headers = [(b"origin", origin.encode())]
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/chat/", headers=headers)


async def ask(
    communicator: WebsocketCommunicator, question: str, conversation: int | None = None
) -> list[dict[str, Any]]:
    await communicator.send_json_to({"type": "ask", "conversation": conversation, "question": question})
    events = []
    while True:
        event = await communicator.receive_json_from(timeout=120)
        events.append(event)
        if event["type"] in ("done", "error"):
            return events


async def test_answer_streams_tokens_then_cited_sources_then_done(policies, charlie):
    communicator = await connect(charlie)
    connected, _ = await communicator.connect()
    assert connected
    events = await ask(communicator, VACATION_QUESTION)
    await communicator.disconnect()

    types = [event["type"] for event in events]
    assert types[0] == "conversation"
    assert types[-2:] == ["sources", "done"]
    tokens = [event["text"] for event in events if event["type"] == "token"]
    assert len(tokens) > 1 and "".join(tokens).strip()
    assert set(types[1:-2]) == {"token"}

    sources = events[-2]["sources"]
    assert [source["n"] for source in sources] == list(range(1, len(sources) + 1))
    assert sources[0]["document_id"] == policies["vacation"].pk
    [days] = [source for source in sources if "23 días laborables" in source["quote"]]
    assert days["title"] == "Política de vacaciones y permisos"
    assert days["location"] == "3. Días de vacaciones · p. 1"
    assert days["url"].startswith(f"/documents/{policies['vacation'].pk}/?chunk=")

    done = events[-1]
    assert done["model"] == "SmolLM2-135M-Instruct.Q4_1"
    stored = await Message.objects.aget(pk=done["message_id"])
    assert stored.content == "".join(tokens)
    assert stored.model == done["model"] and stored.fallback is done["fallback"]
    assert stored.sources == sources
    assert [item["chunk_id"] for item in stored.retrieval] == [
        s["url"].split("chunk=")[1].split("#")[0] for s in sources
    ]


async def test_a_user_outside_hr_never_gets_an_hr_citation(policies, charlie, alice):
    question = "¿Cuánto cuesta el seguro médico premium y cuáles son las bandas salariales?"
    hr_only = policies["benefits"].pk

    communicator = await connect(charlie)
    await communicator.connect()
    charlie_events = await ask(communicator, question)
    await communicator.disconnect()
    charlie_sources = next(e for e in charlie_events if e["type"] == "sources")["sources"]
    assert hr_only not in {source["document_id"] for source in charlie_sources}

    communicator = await connect(alice)
    await communicator.connect()
    alice_events = await ask(communicator, question)
    await communicator.disconnect()
    alice_sources = next(e for e in alice_events if e["type"] == "sources")["sources"]
    assert hr_only in {source["document_id"] for source in alice_sources}  # the same search finds it for HR


async def test_unauthenticated_socket_is_closed(db):
    communicator = await connect(None)
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401


async def test_foreign_origin_is_rejected(charlie):
    communicator = await connect(charlie, origin="http://evil.example")
    connected, _ = await communicator.connect()
    assert not connected


async def test_someone_elses_conversation_looks_missing(policies, charlie, alice):
    communicator = await connect(alice)
    await communicator.connect()
    alice_events = await ask(communicator, VACATION_QUESTION)
    await communicator.disconnect()
    conversation = alice_events[0]["id"]

    communicator = await connect(charlie)
    await communicator.connect()
    events = await ask(communicator, VACATION_QUESTION, conversation=conversation)
    await communicator.disconnect()
    assert events == [{"type": "error", "message": "Conversation not found."}]


async def test_invalid_messages_get_a_clear_error(charlie):
    communicator = await connect(charlie)
    await communicator.connect()
    await communicator.send_json_to({"type": "ask", "conversation": None, "question": "   "})
    assert (await communicator.receive_json_from())["type"] == "error"
    await communicator.send_json_to({"type": "dance"})
    assert (await communicator.receive_json_from()) == {"type": "error", "message": "Unknown message type."}
    await communicator.disconnect()
