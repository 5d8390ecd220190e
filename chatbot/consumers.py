from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.gates import chat_user, may_chat
from accounts.models import User
from chatbot.db import orm
from chatbot.events import ErrorCode, ErrorEvent
from chatbot.limits import conversation_lock, conversation_unlock, rate_limit_wait
from chatbot.rag.answer import answer_stream

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 4000
LOCK_MARGIN_SECONDS = 60


def error(code: ErrorCode, message: str, **extra: int) -> ErrorEvent:
    event = ErrorEvent(type="error", code=code, message=message)
    if "retry_after" in extra:
        event["retry_after"] = extra["retry_after"]
    return event


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/chat/``: authenticated members of staff ask; answers stream back (protocol: docs/protocol.md).

    Each answer runs as a task of its own, so the socket keeps receiving while it streams: a ``stop``
    message ends the answer server-side, and a closed socket cancels it. One answer at a time per socket
    and per conversation (across sockets and processes, through the cache); questions are rate-limited
    per user. Errors reach the client as ``error`` events with a code and a plain message, never a trace.
    """

    # Answers are produced in the socket's own process and nothing is ever sent to a chat socket through the
    # channel layer, so the consumer does not listen on one: with Redis that is one blocking read per open
    # socket, and under load its read timeout closed sockets (1011) in bench/ws_load.py.
    channel_layer_alias = "chat-sockets-use-no-channel-layer"

    async def connect(self) -> None:
        self.owner = uuid.uuid4().hex
        self.task: asyncio.Task[None] | None = None
        self.answering = False  # a turn is open on this socket: cleared before its "done" is sent
        self.stop: asyncio.Event | None = None
        user = self.scope.get("user")
        # Accepted first, then closed: a close before accept is a failed handshake to the browser, which
        # never learns the code and reconnects forever; 4401 tells the page to send the person to sign in.
        await self.accept()
        if user is None or not may_chat(user):
            await self.close(code=4401)

    async def disconnect(self, code: int) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        # Size and syntax are checked here, before JSON decoding, so a bad frame gets an error, not a crash:
        # whatever a frame holds, it is answered and the socket lives on.
        if text_data is None:
            await self.send_json(error("invalid", "Send JSON text messages."))
            return
        if len(text_data.encode()) > settings.CHAT_MAX_MESSAGE_BYTES:
            await self.send_json(
                error("too_large", f"Messages are limited to {settings.CHAT_MAX_MESSAGE_BYTES} bytes.")
            )
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
            await self.send_json(error("invalid", "Send JSON text messages."))
            return
        if not isinstance(content, dict):
            await self.send_json(error("invalid", "Send a JSON object with a type."))
            return
        await self.receive_json(content)

    def _signed_in_user(self) -> User | None:
        """The socket's user as their session signs them in now, if they may still chat (``chat_user``)."""
        user, session = self.scope.get("user"), self.scope.get("session")
        return chat_user(getattr(session, "session_key", None), getattr(user, "pk", None))

    def _admit(self, user: User, conversation: int | None) -> tuple[int, bool]:
        """``(seconds to wait, conversation taken)``: the rate limit, then the conversation's lock."""
        wait = rate_limit_wait(user.pk, per_minute=settings.CHAT_QUESTIONS_PER_MINUTE)
        if wait or conversation is None:
            return wait, True
        return 0, self._lock(user, conversation)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        user = await orm(self._signed_in_user)()
        if user is None:  # signed out, expired or disabled since the socket opened: the close code says so
            await self.close(code=4401)
            return
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "stop":
            if self.stop is not None:
                self.stop.set()
            return
        if kind != "ask":
            await self.send_json(error("unknown_type", "Unknown message type."))
            return
        question = content.get("question")
        conversation = content.get("conversation")
        if not isinstance(question, str) or not question.strip() or len(question) > MAX_QUESTION_CHARS:
            await self.send_json(error("invalid", f"Ask a question of 1 to {MAX_QUESTION_CHARS} characters."))
            return
        if conversation is not None and (not isinstance(conversation, int) or isinstance(conversation, bool)):
            await self.send_json(error("invalid", "Invalid conversation id."))
            return
        if self.answering:
            await self.send_json(error("busy", "An answer is still being written: wait for it or stop it."))
            return
        wait, taken = await orm(self._admit)(user, conversation)
        if wait:
            await self.send_json(error("rate_limited", f"Too many questions: try again in {wait} s.", retry_after=wait))
            return
        if not taken:
            await self.send_json(error("busy", "This conversation is already answering a question."))
            return
        self.stop = asyncio.Event()
        self.answering = True
        self.task = asyncio.create_task(
            self._answer(user=user, conversation=conversation, question=question.strip(), stop=self.stop)
        )

    def _lock(self, user: User, conversation: int) -> bool:
        seconds = settings.GENERATOR_TIMEOUT_SECONDS + LOCK_MARGIN_SECONDS
        return conversation_lock(user.pk, conversation, owner=self.owner, seconds=seconds)

    async def _release(self, user: User, locked: int | None) -> None:
        """End the turn: the conversation's lock goes and the socket takes a new question."""
        self.answering = False
        if locked is not None:
            # Shielded: a socket closing right after "done" cancels the answer's task, and the lock must go.
            await asyncio.shield(orm(conversation_unlock)(user.pk, locked, owner=self.owner))

    async def _answer(self, *, user: User, conversation: int | None, question: str, stop: asyncio.Event) -> None:
        locked = conversation
        released = False
        try:
            async for event in answer_stream(user=user, conversation_id=conversation, question=question, stop=stop):
                if event["type"] == "conversation" and locked is None:
                    locked = event["id"]  # a new conversation: hold it from now on
                    await orm(self._lock)(user, locked)
                if event["type"] == "done":
                    # Released before "done" is sent: a client that asks again on "done" is never "busy".
                    released = True
                    await self._release(user, locked)
                await self.send_json(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("answer failed")
            await self.send_json(error("internal", "Something went wrong; please try again."))
        finally:
            if not released:  # a new turn may already be open once this one is released
                await self._release(user, locked)
