"""``/metrics``: HTTP requests, chat websocket sessions, answer latency and the ingestion queue, in the
Prometheus text format."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from ingestion.models import Document
from ops.metrics import Receive, Scope, Send, WebsocketMetricsMiddleware

NAMED_METRICS = {
    "faro_http_requests",
    "faro_http_request_duration_seconds",
    "faro_websocket_sessions",
    "faro_websocket_sessions_active",
    "faro_generation_first_token_seconds",
    "faro_generation_seconds",
    "faro_answers",
    "faro_ingestion_documents",
    "faro_ingestion_queue_messages",
}


def scrape(client: Client) -> dict[str, Any]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_metrics_exposes_every_named_metric(client: Client):
    families = scrape(client)
    assert NAMED_METRICS <= set(families), sorted(NAMED_METRICS - set(families))


@pytest.mark.django_db
def test_requests_are_counted_by_view_method_and_status(client: Client):
    before = sample("faro_http_requests_total", view="login", method="GET", status="200")
    assert client.get("/login/").status_code == 200
    assert sample("faro_http_requests_total", view="login", method="GET", status="200") == before + 1
    assert sample("faro_http_request_duration_seconds_count", view="login", method="GET") >= 1
    client.get("/no-such-page/")
    assert sample("faro_http_requests_total", view="<unresolved>", method="GET", status="404") >= 1


@pytest.mark.django_db
def test_probes_are_not_counted_as_requests(client: Client):
    client.get("/health/live")
    assert sample("faro_http_requests_total", view="<unresolved>", method="GET", status="200") == 0


@pytest.mark.django_db
def test_ingestion_queue_counts_documents_by_status(client: Client):
    Document.objects.create(title="Waiting", file="originals/waiting.txt", status=Document.Status.PENDING)
    Document.objects.create(title="Busy", file="originals/busy.txt", status=Document.Status.PROCESSING)
    Document.objects.create(title="Busy too", file="originals/busy2.txt", status=Document.Status.PROCESSING)
    documents = scrape(client)["faro_ingestion_documents"]
    values = {item.labels["status"]: item.value for item in documents.samples}
    assert values == {"pending": 1, "processing": 2, "indexed": 0, "failed": 0}


@pytest.mark.django_db
def test_metrics_token_when_configured(client: Client, settings):
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200


async def fake_chat(scope: Scope, receive: Receive, send: Send) -> None:
    """Speaks the chat protocol (docs/protocol.md): one answer per ask, then a failing ask."""
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        question = json.loads(message["text"])["question"]
        if question == "fail":
            await send({"type": "websocket.send", "text": json.dumps({"type": "error", "message": "no"})})
            continue
        for event in (
            {"type": "conversation", "id": 1},
            {"type": "token", "text": "Tienes"},
            {"type": "token", "text": " 23 días"},
            {"type": "sources", "sources": []},
            {"type": "done", "message_id": 2, "model": "test-model", "fallback": question == "fallback"},
        ):
            await send({"type": "websocket.send", "text": json.dumps(event)})


async def test_websocket_sessions_and_answer_latency_are_measured():
    before = {
        "sessions": sample("faro_websocket_sessions_total"),
        "first": sample("faro_generation_first_token_seconds_count"),
        "answered": sample("faro_generation_seconds_count", model="test-model", fallback="false"),
        "fallback": sample("faro_generation_seconds_count", model="test-model", fallback="true"),
        "errors": sample("faro_answers_total", outcome="error"),
    }
    active = sample("faro_websocket_sessions_active")
    communicator = WebsocketCommunicator(WebsocketMetricsMiddleware(fake_chat), "/ws/chat/")
    connected, _ = await communicator.connect()
    assert connected
    assert sample("faro_websocket_sessions_active") == active + 1
    for question in ("¿Vacaciones?", "fallback", "fail"):
        await communicator.send_json_to({"type": "ask", "conversation": None, "question": question})
        while (await communicator.receive_json_from())["type"] not in ("done", "error"):
            pass
    await communicator.disconnect()

    assert sample("faro_websocket_sessions_active") == active
    assert sample("faro_websocket_sessions_total") == before["sessions"] + 1
    assert sample("faro_generation_first_token_seconds_count") == before["first"] + 2
    assert sample("faro_generation_seconds_count", model="test-model", fallback="false") == before["answered"] + 1
    assert sample("faro_generation_seconds_count", model="test-model", fallback="true") == before["fallback"] + 1
    assert sample("faro_answers_total", outcome="error") == before["errors"] + 1


async def test_refused_websockets_are_not_sessions():
    from config.asgi import application

    before = sample("faro_websocket_sessions_total")
    headers = [(b"host", b"localhost"), (b"origin", b"http://evil.example")]
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await communicator.connect()
    assert not connected  # another origin: refused before it is accepted
    assert sample("faro_websocket_sessions_total") == before


def test_the_chat_websocket_is_wrapped():
    from config.asgi import application

    assert isinstance(application.application_mapping["websocket"], WebsocketMetricsMiddleware)
