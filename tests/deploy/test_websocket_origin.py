"""The websocket origin check (``ops/origins.py``) through the whole ASGI application: a socket opens only
from a page of the site itself, compared by scheme, host and port."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def opens(user, *, host: str, origin: str | None, **extra: str) -> bool:
    cookie = await database_sync_to_async(session_cookie)(user)
    headers = [(b"host", host.encode()), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    headers += [(name.replace("_", "-").encode(), value.encode()) for name, value in extra.items()]
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return bool(connected)


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9999",  # another program on the same machine
        "https://localhost",  # another scheme (and port)
        "http://localhost",  # the site's host on another port
        "http://localhost:8001",
        "http://127.0.0.1:8000",  # an allowed host, but not the one the site is served on here
        "http://evil.example:8000",
        "null",  # a sandboxed frame or a file
        None,  # no Origin header at all
    ],
)
async def test_a_socket_from_another_origin_is_refused(charlie, origin):
    assert not await opens(charlie, host="localhost:8000", origin=origin)


async def test_the_sites_own_origin_opens(charlie):
    assert await opens(charlie, host="localhost:8000", origin="http://localhost:8000")
    assert await opens(charlie, host="LOCALHOST:8000", origin="http://localhost:8000")


async def test_a_host_outside_allowed_hosts_is_refused_even_with_a_matching_origin(charlie):
    # DNS rebinding: the attacker's name resolves to the server, so Host and Origin agree.
    assert not await opens(charlie, host="evil.example:8000", origin="http://evil.example:8000")


async def test_behind_the_tls_proxy_the_origin_is_https(charlie, settings):
    settings.ALLOWED_HOSTS = ["faro.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = {"x_forwarded_proto": "https"}
    assert await opens(charlie, host="faro.example.com", origin="https://faro.example.com", **proxied)
    assert await opens(charlie, host="faro.example.com", origin="https://faro.example.com:443", **proxied)
    assert not await opens(charlie, host="faro.example.com", origin="http://faro.example.com", **proxied)
    assert not await opens(charlie, host="faro.example.com", origin="https://faro.example.com:8443", **proxied)


async def test_csrf_trusted_origins_are_the_sites_origins_too(charlie, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://faro.example.com", "https://*.intranet.example"]
    assert await opens(charlie, host="localhost:8000", origin="https://faro.example.com")
    assert await opens(charlie, host="localhost:8000", origin="https://chat.intranet.example")
    assert not await opens(charlie, host="localhost:8000", origin="http://faro.example.com")
    assert not await opens(charlie, host="localhost:8000", origin="https://faro.example.com:8443")
    assert not await opens(charlie, host="localhost:8000", origin="https://intranet.example.evil")
