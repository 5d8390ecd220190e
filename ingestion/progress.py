"""The one progress helper: saves a document's stage and percent and pushes it to the admin live.

Every stage change is saved on the ``Document`` row (so a page that polls, or opens later, sees it) and
sent through the Channels layer to ``PROGRESS_GROUP``, which ``ingestion.consumers`` forwards to the
staff watching the document list. Within a stage, updates are throttled so a large batch costs a few
writes, not one per percent. Saving also renews the worker's heartbeat (see ``ingestion/pipeline.py``).

Other apps' progress rides the same group and socket as a *topic* (``ProgressTopic``: a source's sync,
sources/progress.py): the app registers it once, pushes its events with ``progress_topic_push``, and the
consumer forwards them to the watchers holding the topic's permission, named in each watcher's language.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction
from django.utils import timezone

from ingestion.models import Document

logger = logging.getLogger(__name__)

PROGRESS_GROUP = "ingestion.progress"
_MIN_INTERVAL_SECONDS = 1.0


class ProgressEvent(TypedDict):
    """Server -> browser (``/ws/ingestion/progress/``); ``type`` is ``progress`` on the socket."""

    type: Literal["progress"]
    document_id: int
    status: str
    status_label: str
    stage: str
    stage_label: str
    progress: int
    detail: str
    reason: str
    chunk_count: int
    language: NotRequired[str]  # with a whole document's state (progress_event), not a running stage's


_last: dict[int, tuple[str, int, float]] = {}
_last_lock = threading.Lock()


def _due(document_ids: list[int], stage: str, percent: int) -> bool:
    """A new stage is always saved; within a stage, at most one update a second (a text file parses in
    milliseconds and needs no write at all, an OCR page or an embedding step takes longer than that)."""
    now = time.monotonic()
    with _last_lock:
        due = any(
            (last := _last.get(document_id)) is None or last[0] != stage or now - last[2] >= _MIN_INTERVAL_SECONDS
            for document_id in document_ids
        )
        if due:
            for document_id in document_ids:
                _last[document_id] = (stage, percent, now)
        return due


def progress_started(document_ids: Iterable[int], *, stage: str) -> None:
    """Record that a service has just saved ``stage`` for these documents (so it is not written again)."""
    now = time.monotonic()
    with _last_lock:
        for document_id in document_ids:
            _last[document_id] = (stage, 0, now)


def progress_event(document: Document) -> ProgressEvent:
    return ProgressEvent(
        type="progress",
        document_id=document.pk,
        status=document.status,
        status_label=str(document.get_status_display()),
        stage=document.stage,
        stage_label=str(document.get_stage_display()),
        progress=document.progress,
        detail=document.progress_detail,
        reason=document.status_reason,
        chunk_count=document.chunk_count,
        language=document.language,
    )


def _push(events: list[ProgressEvent]) -> None:
    _send([{**event, "type": "document.progress"} for event in events])


def _send(messages: list[dict[str, Any]]) -> None:
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    if isinstance(layer, InMemoryChannelLayer) and not layer.groups.get(PROGRESS_GROUP):
        return  # an in-process layer nobody in this process listens to (a worker beside a web server)

    async def send_all() -> None:
        for message in messages:
            await layer.group_send(PROGRESS_GROUP, message)

    try:
        async_to_sync(send_all)()  # one event-loop round trip for the whole batch
    except Exception:  # a missing or broken layer must never stop ingestion
        logger.warning("progress push failed", exc_info=True)


def progress_report(
    document_ids: int | Iterable[int], *, stage: str, percent: float = 0, detail: str = "", force: bool = False
) -> None:
    """Save ``stage`` at ``percent`` (0-100) with ``detail`` ("OCR page 3/12") on the documents still
    processing, renew their heartbeat, and push the change to the admin."""
    ids = [document_ids] if isinstance(document_ids, int) else list(document_ids)
    whole = max(0, min(100, round(percent)))
    if not ids or not (force or _due(ids, stage, whole)):
        return
    Document.objects.filter(pk__in=ids, status=Document.Status.PROCESSING).update(
        stage=stage, progress=whole, progress_detail=detail[:200], heartbeat_at=timezone.now()
    )
    _push(
        [
            ProgressEvent(
                type="progress",
                document_id=document_id,
                status=Document.Status.PROCESSING,
                status_label=str(Document.Status.PROCESSING.label),
                stage=stage,
                stage_label=str(Document.Stage(stage).label),
                progress=whole,
                detail=detail,
                reason="",
                chunk_count=0,
            )
            for document_id in ids
        ]
    )


def progress_publish(document_ids: int | Iterable[int]) -> None:
    """Push the saved state of the documents (after a service changed their status), once committed."""
    ids = [document_ids] if isinstance(document_ids, int) else list(document_ids)

    def send() -> None:
        _push([progress_event(document) for document in Document.objects.filter(pk__in=ids)])

    transaction.on_commit(send)


def progress_snapshot(document_ids: Iterable[int]) -> list[ProgressEvent]:
    """The saved state of the given documents (for a page that opens or reconnects)."""
    return [progress_event(document) for document in Document.objects.filter(pk__in=list(document_ids)[:500])]


@dataclass(frozen=True)
class ProgressTopic:
    """Another app's progress on ``/ws/ingestion/progress/``. Its events are JSON objects whose ``type``
    is what the browser sees; ``snapshot`` gives the saved state of the given ids (for a page that opens,
    reconnects, or runs beside a worker without a shared channel layer: ``{"type": "refresh", <name>:
    [ids]}``), ``label`` names an event's state in the active language (the worker has none)."""

    name: str  # the refresh message's key
    permission: str  # who may watch it, besides who may watch documents
    snapshot: Callable[[list[int]], list[Mapping[str, Any]]]
    label: Callable[[Mapping[str, Any]], Mapping[str, Any]]


_topics: dict[str, ProgressTopic] = {}


def progress_topic_register(topic: ProgressTopic) -> None:
    """Called once per process from the app's ``ready``."""
    _topics[topic.name] = topic


def progress_topics() -> list[ProgressTopic]:
    return list(_topics.values())


def progress_topic(name: str) -> ProgressTopic | None:
    return _topics.get(name)


def progress_topic_push(name: str, events: Iterable[Mapping[str, Any]]) -> None:
    """Push a topic's events to the staff watching (never raises: progress must not stop the work)."""
    _send([{"type": "progress.forward", "topic": name, "event": dict(event)} for event in events])
