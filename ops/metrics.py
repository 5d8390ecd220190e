"""Prometheus metrics: HTTP requests, chat websocket sessions, answer (generation) latency and the
ingestion queue.

Why prometheus-client alone: it is the official Python client, and Faro's own metrics (websocket sessions,
generation latency, the ingestion queue) have to be written with it anyway. django-prometheus would add a
pair of middleware and database wrappers for request metrics that a dozen lines below cover, in a form that
runs natively under ASGI. Each process (daphne in ``web``) serves its own registry at ``/metrics``; the
ingestion queue is read from the database and the broker at scrape time, so no worker has to export anything.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "faro_http_requests", "HTTP requests answered by Django, by view, method and status.", ["view", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "faro_http_request_duration_seconds", "Time Django took to answer an HTTP request.", ["view", "method"]
)
WEBSOCKET_SESSIONS = Counter("faro_websocket_sessions", "Chat websocket sessions accepted.")
WEBSOCKET_SESSIONS_ACTIVE = Gauge("faro_websocket_sessions_active", "Chat websocket sessions open now.")
ANSWER_BUCKETS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0)
GENERATION_FIRST_TOKEN = Histogram(
    "faro_generation_first_token_seconds",
    "From a question to the first piece of its answer (retrieval included).",
    buckets=ANSWER_BUCKETS,
)
GENERATION_LATENCY = Histogram(
    "faro_generation_seconds",
    "From a question to its finished answer, by model and whether it fell back to quoted passages.",
    ["model", "fallback"],
    buckets=ANSWER_BUCKETS,
)
ANSWERS = Counter("faro_answers", "Questions finished, by outcome: answered, fallback or error.", ["outcome"])

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(*, request: Any, status: int, seconds: float) -> None:
    """Count one answered request; labels stay few (views, not paths), so the series stay bounded."""
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match is not None else "<unresolved>"
    method = request.method if request.method in _METHODS else "other"
    HTTP_REQUESTS.labels(view=view, method=method, status=str(status)).inc()
    HTTP_LATENCY.labels(view=view, method=method).observe(seconds)


# --- Websocket sessions and answer latency, read from the chat protocol at the ASGI boundary -------------
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _event_type(text: object, *, max_chars: int | None = None) -> tuple[str | None, dict[str, Any]]:
    """The frame's ``type``, or ``None`` for anything else. Observing never fails a socket: frames over
    ``max_chars`` are not parsed (the consumer refuses a client's oversized frame itself), and whatever
    else a frame holds (nesting deeper than the parser's stack raises RecursionError) is the consumer's
    to answer."""
    if not isinstance(text, str) or (max_chars is not None and len(text) > max_chars):
        return None, {}
    try:
        event = json.loads(text)
    except Exception:
        return None, {}
    if not isinstance(event, dict):
        return None, {}
    kind = event.get("type")
    return (kind if isinstance(kind, str) else None), event


class WebsocketMetricsMiddleware:
    """Wraps the websocket application: counts accepted sessions and times each answer from the protocol
    frames docs/protocol.md documents (``ask`` in; ``token``..., ``done`` or ``error`` out), so the chat code
    itself carries no metrics."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.inner(scope, receive, send)
            return
        accepted = False
        asked_at: float | None = None
        first_piece_seen = False

        async def receive_observed() -> Message:
            nonlocal asked_at, first_piece_seen
            message = await receive()
            if (
                message.get("type") == "websocket.receive"
                and _event_type(message.get("text"), max_chars=settings.CHAT_MAX_MESSAGE_BYTES)[0] == "ask"
            ):
                asked_at, first_piece_seen = time.perf_counter(), False
            return message

        async def send_observed(message: Message) -> None:
            nonlocal accepted, asked_at, first_piece_seen
            if message.get("type") == "websocket.accept" and not accepted:
                accepted = True
                WEBSOCKET_SESSIONS.inc()
                WEBSOCKET_SESSIONS_ACTIVE.inc()
            elif message.get("type") == "websocket.send" and asked_at is not None:
                kind, event = _event_type(message.get("text"))
                elapsed = time.perf_counter() - asked_at
                if kind == "token" and not first_piece_seen:
                    first_piece_seen = True
                    GENERATION_FIRST_TOKEN.observe(elapsed)
                elif kind == "done":
                    fallback = bool(event.get("fallback"))
                    model = str(event.get("model") or "unknown")
                    GENERATION_LATENCY.labels(model=model, fallback=str(fallback).lower()).observe(elapsed)
                    ANSWERS.labels(outcome="fallback" if fallback else "answered").inc()
                    asked_at = None
                elif kind == "error":
                    ANSWERS.labels(outcome="error").inc()
                    asked_at = None
            await send(message)

        try:
            await self.inner(scope, receive_observed, send_observed)
        finally:
            if accepted:
                WEBSOCKET_SESSIONS_ACTIVE.dec()


# --- Ingestion queue, read at scrape time --------------------------------------------------------------
# kombu's Redis transport keeps a queue's messages of priority 0 under its name and others under
# "<name>\x06\x16<priority>" (default priority steps 0, 3, 6, 9).
_REDIS_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def _broker_queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue, when the broker is Redis (empty otherwise)."""
    from celery import current_app
    from django.conf import settings

    broker_url = settings.CELERY_BROKER_URL
    if not broker_url.startswith(("redis://", "rediss://")):
        return {}
    import redis

    queues = {current_app.conf.task_default_queue, *(queue.name for queue in current_app.conf.task_queues or ())}
    client = redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return {
            name: sum(int(client.llen(name + suffix)) for suffix in _REDIS_PRIORITY_SUFFIXES) for name in sorted(queues)
        }
    finally:
        client.close()


def _documents_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "faro_ingestion_documents",
        "Documents by ingestion status; pending and processing ones are the ingestion queue.",
        labels=["status"],
    )


def _queue_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "faro_ingestion_queue_messages", "Messages waiting in a Celery queue (Redis broker).", labels=["queue"]
    )


class IngestionQueueCollector(Collector):
    """``faro_ingestion_documents{status}`` from the database (pending and processing documents are the
    ingestion queue whatever the broker) and ``faro_ingestion_queue_messages{queue}`` from a Redis broker."""

    def describe(self) -> Iterable[Metric]:
        # Registering asks for the names; answering here keeps registration from querying the database.
        return [_documents_family(), _queue_family()]

    def collect(self) -> Iterable[Metric]:
        from django.db.models import Count

        from ingestion.models import Document

        documents = _documents_family()
        try:
            counts = dict(Document.objects.order_by().values_list("status").annotate(n=Count("pk")))
        except Exception:  # a scrape still answers while the database is down; readiness reports it
            logger.warning("metrics: could not count documents", exc_info=True)
        else:
            for status in Document.Status.values:
                documents.add_metric([status], counts.get(status, 0))
        yield documents

        messages = _queue_family()
        try:
            lengths = _broker_queue_lengths()
        except Exception:
            logger.warning("metrics: could not read the broker's queues", exc_info=True)
        else:
            for name, length in lengths.items():
                messages.add_metric([name], length)
        yield messages


_collector = IngestionQueueCollector()


def register_collectors() -> None:
    """Called once from the app config; safe to call again."""
    try:
        REGISTRY.register(_collector)
    except ValueError:  # already registered
        pass
