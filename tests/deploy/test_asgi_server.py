"""The production settings served by daphne, as the web container runs it (minus the other containers):
probes answer over plain HTTP on any host name, a missing Redis makes readiness 503 naming it, and the
pages get HTTPS redirects, HSTS, CSP and secure cookies behind the proxy's X-Forwarded-Proto."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.compose import ROOT
from tests.deploy.test_readiness import closed_port

pytestmark = pytest.mark.slow
DOMAIN = "faro.example.com"
ASGI_APP = ["config.asgi:application"]


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def get(url: str, **headers: str) -> Response:
    request = urllib.request.Request(url, headers=headers)
    try:
        with _opener.open(request, timeout=30) as response:
            return Response(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("asgi-data")
    port = closed_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_KEY": secrets.token_hex(32),
        "ALLOWED_HOSTS": DOMAIN,
        "CSRF_TRUSTED_ORIGINS": f"https://{DOMAIN}",
        "DATA_DIR": str(data_dir),
        "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",  # nothing listens: readiness must say so
        "LLM_BACKEND": "extractive",
        "LOG_FORMAT": "json",
    }
    log = (data_dir / "daphne.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "--proxy-headers", *ASGI_APP],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"daphne exited: {(data_dir / 'daphne.log').read_text()}")
            try:
                if get(f"{base}/health/live").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("daphne did not start in 90 s")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_readiness_names_the_missing_redis_over_asgi(server):
    response = get(f"{server}/health/ready", Host="web:8000")
    assert response.status == 503
    body = json.loads(response.body)
    assert body["failed"] == ["redis"]
    assert body["checks"]["database"]["ok"] and body["checks"]["search"]["ok"] and body["checks"]["generator"]["ok"]


def test_metrics_are_served_to_the_scraper_over_asgi(server):
    response = get(f"{server}/metrics", Host="web:8000")
    assert response.status == 200
    text = response.body.decode()
    assert "faro_http_requests_total" in text and "faro_websocket_sessions_active" in text


def test_pages_are_https_only_with_strict_headers(server):
    assert get(f"{server}/login/").status == 400  # a host name not in ALLOWED_HOSTS
    redirect = get(f"{server}/login/", Host=DOMAIN)
    assert redirect.status == 301 and redirect.headers["Location"] == f"https://{DOMAIN}/login/"

    page = get(f"{server}/login/", Host=DOMAIN, **{"X-Forwarded-Proto": "https"})
    assert page.status == 200
    assert "max-age=31536000" in page.headers["Strict-Transport-Security"]
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "Secure" in page.headers["Set-Cookie"] and "csrftoken" in page.headers["Set-Cookie"]
