"""The chat websocket through the full ASGI stack (origin check, session auth), the real embedded search
and the default extractive answer (a slow generator double for the stop and one-at-a-time tests)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
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
    headers = [(b"host", b"localhost"), (b"origin", origin.encode())]
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
    assert tokens and "23 días laborables" in tokens[0]  # the answer leads with it
    assert types[1] == "retrieved" and set(types[2:-2]) == {"token"}  # the passages found, before any word
    found = events[1]["sources"]

    sources = events[-2]["sources"]  # only the passages the answer cites
    assert all(source in found for source in sources)  # numbered as they were found
    assert sources and all(f"[{source['n']}]" in events[-1]["text"] for source in sources)
    assert sources[0]["document_id"] == policies["vacation"].pk
    [days] = [source for source in sources if "23 días laborables" in source["quote"]]
    assert days["title"] == "Política de vacaciones y permisos"
    assert days["location"] == "3. Días de vacaciones · p. 1"
    assert days["url"].startswith(f"/documents/{policies['vacation'].pk}/?chunk=")

    done = events[-1]
    assert done["model"] == "extractive" and done["fallback"] is False and done["fallback_reason"] == ""
    assert done["refused"] is False and done["stopped"] is False
    assert done["confidence"] in ("high", "medium", "low")
    stored = await Message.objects.aget(pk=done["message_id"])
    assert stored.content == done["text"]  # the streamed text after the citation check
    assert stored.model == done["model"] and stored.fallback is done["fallback"]
    assert stored.confidence == done["confidence"] and stored.latency_total_ms is not None
    assert stored.sources == sources
    assert [item["chunk_id"] for item in stored.retrieval] == [  # every passage found, cited or not
        s["url"].split("chunk=")[1].split("#")[0] for s in found
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


async def test_unauthenticated_socket_is_accepted_then_closed_with_4401(db):
    # A close before accept is a failed handshake to a browser, which never sees the code (docs/protocol.md:
    # anonymous sockets are accepted, then closed with 4401).
    communicator = await connect(None)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}


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
    assert events == [{"type": "error", "code": "not_found", "message": "Conversation not found."}]


async def test_invalid_messages_get_a_clear_error(charlie):
    communicator = await connect(charlie)
    await communicator.connect()
    await communicator.send_json_to({"type": "ask", "conversation": None, "question": "   "})
    assert (await communicator.receive_json_from())["type"] == "error"
    await communicator.send_json_to({"type": "dance"})
    assert (await communicator.receive_json_from()) == {
        "type": "error",
        "code": "unknown_type",
        "message": "Unknown message type.",
    }
    await communicator.send_to(text_data="{not json")
    assert (await communicator.receive_json_from())["code"] == "invalid"
    await communicator.send_json_to({"type": "ask", "conversation": "12", "question": "hola"})
    assert (await communicator.receive_json_from())["code"] == "invalid"
    await communicator.disconnect()


NOT_MESSAGES = [
    "[" * 5000 + "]" * 5000,  # 10 KB, nested deeper than the JSON parser's stack: RecursionError
    '{"type": "ask", "conversation": null, "question": ' + "[" * 5000 + "]" * 5000 + "}",
    "1" * 5000,  # an integer longer than Python converts: ValueError
    "[]",
    '"ask"',
    "null",
]


async def test_a_frame_that_is_not_a_message_gets_invalid_and_the_socket_lives_on(charlie):
    communicator = await connect(charlie)
    await communicator.connect()
    for frame in NOT_MESSAGES:
        await communicator.send_to(text_data=frame)
        event = await communicator.receive_json_from()
        assert event["type"] == "error" and event["code"] == "invalid", frame[:60]
    await communicator.send_to(bytes_data=b"[" * 5000)
    assert (await communicator.receive_json_from())["code"] == "invalid"
    await communicator.send_json_to({"type": "dance"})  # still open and answering
    assert (await communicator.receive_json_from())["code"] == "unknown_type"
    await communicator.disconnect()


async def test_oversized_messages_are_refused_before_decoding(charlie, settings):
    settings.CHAT_MAX_MESSAGE_BYTES = 1024
    communicator = await connect(charlie)
    await communicator.connect()
    await communicator.send_to(text_data='{"type": "ask", "conversation": null, "question": "' + "a" * 2000 + '"}')
    event = await communicator.receive_json_from()
    assert event["code"] == "too_large" and "1024" in event["message"]
    await communicator.disconnect()


async def test_a_socket_whose_session_ended_is_closed_on_its_next_message(charlie):
    communicator = await connect(charlie)
    await communicator.connect()
    await Session.objects.all().adelete()  # signed out elsewhere (or the session expired)
    await communicator.send_json_to({"type": "ask", "conversation": None, "question": "hola"})
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_a_deactivated_user_is_closed_on_the_next_message(charlie):
    communicator = await connect(charlie)
    await communicator.connect()
    charlie.is_active = False
    await charlie.asave(update_fields=["is_active"])
    await communicator.send_json_to({"type": "ask", "conversation": None, "question": "hola"})
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_a_socket_is_closed_on_its_next_message_once_the_password_changed(charlie):
    # A password change signs out every other session of the person (Django's session auth hash): the socket
    # that was opened by one of them ends as its pages do.
    cookie = await database_sync_to_async(session_cookie)(charlie)
    headers = [
        (b"host", b"localhost"),
        (b"origin", b"http://localhost"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    assert (await communicator.connect())[0]

    def change_password() -> None:
        charlie.set_password("a new password")
        charlie.save()

    def page_status() -> int:
        page = Client()
        page.cookies[settings.SESSION_COOKIE_NAME] = cookie
        return page.get("/").status_code

    await database_sync_to_async(change_password)()
    await communicator.send_json_to({"type": "ask", "conversation": None, "question": "hola"})
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}
    assert await database_sync_to_async(page_status)() == 302  # as the pages: sent to sign in


async def test_questions_are_rate_limited_per_user_with_a_clear_error(policies, charlie, settings):
    settings.CHAT_QUESTIONS_PER_MINUTE = 1
    settings.LLM_BACKEND = "extractive"
    first, second = await connect(charlie), await connect(charlie)
    await first.connect()
    await second.connect()
    events = await ask(first, VACATION_QUESTION)
    assert events[-1]["type"] == "done"
    [limited] = await ask(second, VACATION_QUESTION)  # another socket of the same person
    # A question counts in its second of the clock and the 60 after it (chatbot/limits.py): at most 61 s.
    assert limited["code"] == "rate_limited" and 1 <= limited["retry_after"] <= 61
    assert f"{limited['retry_after']} s" in limited["message"]
    await first.disconnect()
    await second.disconnect()


@pytest.fixture
def slow_generator(settings):
    settings.LLM_BACKENDS = {**settings.LLM_BACKENDS, "slow": "tests.chatbot.doubles.SlowClient"}
    settings.LLM_BACKEND = "slow"


async def test_stop_ends_the_answer_server_side_and_keeps_what_was_said(policies, charlie, slow_generator):
    communicator = await connect(charlie)
    await communicator.connect()
    await communicator.send_json_to({"type": "ask", "conversation": None, "question": VACATION_QUESTION})
    events = []
    while True:
        event = await communicator.receive_json_from(timeout=120)
        events.append(event)
        if event["type"] == "token":
            await communicator.send_json_to({"type": "stop"})  # the socket still listens while it streams
            break
    while events[-1]["type"] != "done":
        events.append(await communicator.receive_json_from(timeout=30))
    done = events[-1]
    tokens = [e["text"] for e in events if e["type"] == "token"]
    assert done["stopped"] is True and done["fallback"] is False and len(tokens) < 5
    stored = await Message.objects.aget(pk=done["message_id"])
    assert stored.stopped is True and stored.content == "".join(tokens).strip()
    # The socket is free for the next question at once.
    assert (await ask(communicator, "¿Y en 2027?", conversation=events[0]["id"]))[-1]["type"] == "done"
    await communicator.disconnect()


async def test_one_answer_at_a_time_per_socket_and_per_conversation(policies, alice, slow_generator):
    first = await connect(alice)
    await first.connect()
    await first.send_json_to({"type": "ask", "conversation": None, "question": VACATION_QUESTION})
    conversation = (await first.receive_json_from(timeout=120))["id"]
    await first.send_json_to({"type": "ask", "conversation": None, "question": "otra"})
    assert (await first.receive_json_from(timeout=30))["code"] == "busy"

    second = await connect(alice)  # another tab, same conversation
    await second.connect()
    await second.send_json_to({"type": "ask", "conversation": conversation, "question": "¿y eso?"})
    assert (await second.receive_json_from(timeout=30))["code"] == "busy"

    await first.send_json_to({"type": "stop"})
    while (await first.receive_json_from(timeout=30))["type"] != "done":
        pass
    assert (await ask(second, "¿y eso?", conversation=conversation))[-1]["type"] == "done"
    await first.disconnect()
    await second.disconnect()


async def test_closing_the_socket_cancels_the_answer(policies, charlie, slow_generator):
    communicator = await connect(charlie)
    await communicator.connect()
    await communicator.send_json_to({"type": "ask", "conversation": None, "question": VACATION_QUESTION})
    while (await communicator.receive_json_from(timeout=120))["type"] != "token":
        pass
    await communicator.disconnect()
    await asyncio.sleep(0.5)
    assert not await Message.objects.filter(role="assistant").aexists()  # cancelled, never finished


async def test_errors_reach_the_client_without_internals(policies, charlie, monkeypatch):
    async def broken(**kwargs):
        raise RuntimeError("secret internals at /srv/faro/settings.py")
        yield  # pragma: no cover

    monkeypatch.setattr("chatbot.consumers.answer_stream", broken)
    communicator = await connect(charlie)
    await communicator.connect()
    [event] = await ask(communicator, VACATION_QUESTION)
    assert event == {"type": "error", "code": "internal", "message": "Something went wrong; please try again."}
    await communicator.disconnect()


async def test_a_question_sent_on_done_is_never_busy(policies, charlie, settings, monkeypatch):
    settings.LLM_BACKEND = "extractive"
    from chatbot import consumers

    unlock = consumers.conversation_unlock

    def slow_unlock(*args: Any, **kwargs: Any) -> None:  # a cache that answers slowly (a busy Redis)
        time.sleep(0.5)
        unlock(*args, **kwargs)

    monkeypatch.setattr(consumers, "conversation_unlock", slow_unlock)
    communicator = await connect(charlie)
    await communicator.connect()
    conversation = (await ask(communicator, VACATION_QUESTION))[0]["id"]
    # The turn is released before "done" is sent: asking again the moment it arrives is always accepted.
    for question in ("¿Y si trabajo a media jornada?", "¿Cuántos días por matrimonio?", "¿Y por mudanza?"):
        events = await ask(communicator, question, conversation=conversation)
        assert events[-1]["type"] == "done", events[-1]
    await communicator.disconnect()
