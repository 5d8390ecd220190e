"""``/ws/ingestion/progress/``: live document progress for those the admin shows its document list to."""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.gates import may_use_admin_for, session_user
from accounts.models import User
from ingestion.models import Document
from ingestion.progress import (
    PROGRESS_GROUP,
    ProgressEvent,
    ProgressTopic,
    progress_snapshot,
    progress_topic,
    progress_topics,
)

VIEW_PERMISSION = "ingestion.view_document"
MAX_WATCHED = 500
RECHECK_SECONDS = 10  # while events flow with no message from the page, the watcher is asked again this often


def _allowed(user: Any) -> bool:
    """Whoever the admin shows its document list to (the same gate)."""
    return user is not None and may_use_admin_for(user, VIEW_PERMISSION)


def _watcher(scope: dict[str, Any]) -> User | None:
    """The socket's person as their session signs them in now, if they may still watch."""
    user, session = scope.get("user"), scope.get("session")
    watcher = session_user(getattr(session, "session_key", None), getattr(user, "pk", None))
    if watcher is None or not _allowed(watcher):
        return None
    return watcher


def _language(scope: dict[str, Any]) -> str:
    """The interface language for this socket, from the browser's Accept-Language (as LocaleMiddleware)."""
    headers = dict(scope.get("headers") or [])
    accepted = headers.get(b"accept-language", b"").decode("latin-1")
    for code, _ in parse_accept_lang_header(accepted):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _labelled(event: ProgressEvent, language: str) -> ProgressEvent:
    """The event with its status and stage named in the watcher's language (the worker has none)."""
    with translation.override(language):
        return ProgressEvent(
            **{
                **event,
                "type": "progress",
                "status_label": str(Document.Status(event["status"]).label),
                "stage_label": str(Document.Stage(event["stage"]).label),
            }
        )


class DocumentProgressConsumer(AsyncJsonWebsocketConsumer):
    """Pushes ``progress`` events (``ingestion.progress.ProgressEvent``) for every document.

    Client -> server: ``{"type": "refresh", "documents": [ids]}`` answers with the saved state of those
    documents (a page that opens, reconnects, or runs beside a worker without a shared channel layer).
    Other apps' topics (``ingestion.progress.ProgressTopic``, e.g. ``"sources": [ids]``) ride along, for
    watchers who hold the topic's permission."""

    async def connect(self) -> None:
        self.language = _language(self.scope)
        self.checked_at = time.monotonic()
        self.watching = await database_sync_to_async(_allowed)(self.scope.get("user"))
        if self.watching:  # in the group before the socket opens, so that no event is missed
            await self.channel_layer.group_add(PROGRESS_GROUP, self.channel_name)
        # Refused sockets too are accepted, then closed, as the chat socket does: a close before accept is a
        # failed handshake, so the browser never learned 4403 (the page's "stop trying") and reconnected every
        # 5 s forever.
        await self.accept()
        if not self.watching:
            await self.close(code=4403)

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(PROGRESS_GROUP, self.channel_name)

    async def _still_allowed(self) -> bool:
        """Asks the gate again with the person as stored now (signed out, disabled or demoted since the
        socket opened: refused), closing the socket with 4403 if not."""
        self.checked_at = time.monotonic()
        if await database_sync_to_async(_watcher)(self.scope) is not None:
            return True
        self.watching = False
        await self.channel_layer.group_discard(PROGRESS_GROUP, self.channel_name)
        await self.close(code=4403)
        return False

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not await self._still_allowed():
            return
        if not isinstance(content, dict) or content.get("type") != "refresh":
            await self.send_json({"type": "error", "message": "Unknown message type."})
            return
        ids = [value for value in content.get("documents", []) if isinstance(value, int)][:MAX_WATCHED]
        for event in await database_sync_to_async(progress_snapshot)(ids):
            await self.send_json(_labelled(event, self.language))
        for topic in progress_topics():
            ids = [value for value in content.get(topic.name, []) if isinstance(value, int)][:MAX_WATCHED]
            if ids and await self._watches(topic):
                for saved in await database_sync_to_async(topic.snapshot)(ids):
                    await self.send_json(self._topic_labelled(topic, saved))

    async def document_progress(self, message: dict[str, Any]) -> None:
        if not self.watching:  # refused: events already on their way are dropped
            return
        if time.monotonic() - self.checked_at > RECHECK_SECONDS and not await self._still_allowed():
            return
        event = ProgressEvent(**{**message, "type": "progress"})  # type: ignore[typeddict-item]
        await self.send_json(_labelled(event, self.language))

    async def progress_forward(self, message: dict[str, Any]) -> None:
        """Another app's event (``ingestion.progress.progress_topic_push``), for those who may watch it."""
        if not self.watching:
            return
        topic = progress_topic(message.get("topic", ""))
        if topic is not None and await self._watches(topic):
            await self.send_json(self._topic_labelled(topic, message["event"]))

    async def _watches(self, topic: ProgressTopic) -> bool:
        """The person as their session signs them in now may watch, and holds the topic's permission."""

        def allowed() -> bool:
            watcher = _watcher(self.scope)
            return watcher is not None and watcher.has_perm(topic.permission)

        watches: bool = await database_sync_to_async(allowed)()  # channels is untyped
        return watches

    def _topic_labelled(self, topic: ProgressTopic, event: Any) -> Any:
        with translation.override(self.language):
            return topic.label(event)
