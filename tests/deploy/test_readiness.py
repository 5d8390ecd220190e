"""``/health/live`` and ``/health/ready``: 200 when every dependency answers, 503 naming the one that does
not; probes bypass the host and HTTPS checks that protect every other URL."""

from __future__ import annotations

import http.server
import io
import json
import socket
import threading
from collections.abc import Iterator

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Health(http.server.BaseHTTPRequestHandler):
    seen_authorization: list[str | None] = []

    def do_GET(self) -> None:
        type(self).seen_authorization.append(self.headers.get("Authorization"))
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_tgi_health() -> Iterator[str]:
    """A server with TGI's ``/health`` route only; answers 200."""
    _Health.seen_authorization = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_live_answers_without_touching_dependencies(client: Client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_ready_when_every_dependency_answers(client: Client):
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready" and body["failed"] == []
    assert set(body["checks"]) == {"database", "redis", "search", "generator"}
    assert all(check["ok"] for check in body["checks"].values())


def test_redis_down_is_named(client: Client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["failed"] == ["redis"]
    assert body["checks"]["redis"]["detail"] == "ConnectionError"
    assert "127.0.0.1" not in response.content.decode(), "error details stay in the log"


def test_generator_down_is_named(client: Client, settings):
    settings.LLM_BACKEND = "tgi"
    settings.TGI_URL = f"http://127.0.0.1:{closed_port()}"
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["generator"]


def test_generator_up_asks_tgi_health_with_the_token(client: Client, settings, fake_tgi_health):
    settings.LLM_BACKEND = "tgi"
    settings.TGI_URL = f"{fake_tgi_health}/v1"  # the Messages API base; /health sits beside it
    settings.TGI_TOKEN = "tgi-secret"
    response = client.get("/health/ready")
    assert response.status_code == 200, response.json()
    assert _Health.seen_authorization == ["Bearer tgi-secret"]


def test_missing_local_model_is_named(client: Client, settings, tmp_path):
    settings.LLM_BACKEND = "local"
    settings.GENERATOR_MODEL = str(tmp_path / "missing.gguf")
    response = client.get("/health/ready")
    assert response.status_code == 503
    check = response.json()["checks"]["generator"]
    assert check["ok"] is False and check["detail"] == "NotReady"


def test_search_down_is_named(client: Client, monkeypatch):
    import ingestion.search

    def unreachable() -> object:
        raise ConnectionRefusedError("search backend unreachable")

    monkeypatch.setattr(ingestion.search, "get_search_backend", unreachable)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["search"]


def test_probes_ignore_allowed_hosts_and_https_redirects(client: Client, settings):
    settings.ALLOWED_HOSTS = ["faro.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/health/live", HTTP_HOST="web:8000").status_code == 200
    assert client.get("/login/", HTTP_HOST="web:8000").status_code == 400  # everything else stays protected
    assert client.get("/login/", HTTP_HOST="faro.example.com").status_code == 301


def test_probes_only_read(client: Client):
    assert client.post("/health/ready").status_code == 405


def test_operators_can_run_the_same_checks_from_the_command_line(settings):
    from django.core.management import CommandError, call_command

    call_command("readiness", stdout=io.StringIO())
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    output = io.StringIO()
    with pytest.raises(CommandError, match="not ready: redis"):
        call_command("readiness", stdout=output)
    assert json.loads(output.getvalue())["failed"] == ["redis"]
