"""The websocket origin check: a socket is opened only from a page of this site.

A browser lets any page open a websocket to any server and sends the session cookie with it; only the
``Origin`` header tells the server which page asked. Channels' ``AllowedHostsOriginValidator`` compares the
origin's host name alone with ``ALLOWED_HOSTS``, so ``http://127.0.0.1:9999`` (another program on the same
machine) or ``https://localhost`` passed for a site served at ``http://localhost:8000``. Here the whole
origin (scheme, host, port) must be the site's own, by the rule Django's CSRF check applies to forms
(``django/middleware/csrf.py``): the origin of the request itself (its ``Host``, which must be in
``ALLOWED_HOSTS``, and its scheme, from ``SECURE_PROXY_SSL_HEADER`` behind the TLS proxy) or one listed in
``CSRF_TRUSTED_ORIGINS``. A socket without an ``Origin`` header is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from ops.metrics import ASGIApp, Receive, Scope, Send

Origin = tuple[str, str, int]  # scheme, host name, port
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(value: str) -> Origin | None:
    """``(scheme, host, port)`` of an ``http(s)`` origin, the port filled in; ``None`` when it is not one."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _is_secure(scope: Scope) -> bool:
    """As ``HttpRequest.is_secure``: the proxy's header when one is trusted and present, else the scope."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        forwarded = _header(scope, name)
        if forwarded is not None:
            return forwarded.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def _allowed_hosts() -> list[str]:
    if settings.DEBUG and not settings.ALLOWED_HOSTS:  # as HttpRequest.get_host
        return [".localhost", "127.0.0.1", "[::1]"]
    return list(settings.ALLOWED_HOSTS)


def request_origin(scope: Scope) -> Origin | None:
    """The origin the socket was opened on, when its ``Host`` is one of ``ALLOWED_HOSTS``."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    return parse_origin(f"{'https' if _is_secure(scope) else 'http'}://{host}")


def _trusted(origin: Origin, trusted: Iterable[str]) -> bool:
    scheme, host, port = origin
    for entry in trusted:
        wildcard = "://*." in entry
        pattern = parse_origin(entry.replace("://*.", "://", 1) if wildcard else entry)
        if pattern is None or pattern[0] != scheme or pattern[2] != port:
            continue
        if host == pattern[1] or (wildcard and host.endswith("." + pattern[1])):
            return True
    return False


def origin_allowed(scope: Scope) -> bool:
    """Whether the socket's ``Origin`` is this site's: the request's own origin or a trusted one."""
    value = _header(scope, b"origin")
    origin = parse_origin(value) if value else None
    if origin is None:
        return False
    return origin == request_origin(scope) or _trusted(origin, settings.CSRF_TRUSTED_ORIGINS)


class SiteOriginValidator:
    """Wraps the websocket application; a socket from another origin is refused before it is accepted."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.inner(scope, receive, send)
