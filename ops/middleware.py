"""Two middleware, both first in ``MIDDLEWARE`` and both native under ASGI and WSGI.

``ops_endpoints`` answers ``/health/live``, ``/health/ready`` and ``/metrics`` before any other middleware:
probes and scrapers reach the container by its internal name (``web:8000``, ``127.0.0.1``) over plain HTTP,
which ``ALLOWED_HOSTS`` and ``SECURE_SSL_REDIRECT`` rightly refuse for everything else. The proxy does not
route ``/health/ready`` or ``/metrics`` from outside (``deploy/Caddyfile``).

``request_metrics`` times and counts every other request (``ops.metrics``).

``ContentSecurityPolicyMiddleware`` is django-csp's, with the SSO identity provider's origin added to
``form-action``: the SSO button and the logout form redirect there, and browsers hold a form's redirects to
that directive too. Read per request, so it follows the settings wherever they change.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, sync_to_async
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.utils.decorators import sync_and_async_middleware

from ops import views
from ops.metrics import observe_request

ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/health/live": views.live,
    "/health/ready": views.ready,
    "/metrics": views.metrics,
}

GetResponse = Callable[[HttpRequest], HttpResponse]
AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponse]]


def _serve(view: Callable[[HttpRequest], HttpResponse], request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return view(request)


def _serve_in_worker_thread(view: Callable[[HttpRequest], HttpResponse], request: HttpRequest) -> HttpResponse:
    # Off Django's shared sync thread, so a slow dependency cannot stall other requests; the thread's
    # database connection is closed afterwards instead of lingering in the pool.
    try:
        return _serve(view, request)
    finally:
        connections.close_all()


@sync_and_async_middleware
def ops_endpoints(get_response: GetResponse | AsyncGetResponse) -> Callable[[HttpRequest], object]:
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            view = ENDPOINTS.get(request.path_info)
            if view is not None:
                return await sync_to_async(_serve_in_worker_thread, thread_sensitive=False)(view, request)
            # iscoroutinefunction narrows to a coroutine function of Any: the annotation restores the type.
            response: HttpResponse = await get_response(request)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        view = ENDPOINTS.get(request.path_info)
        if view is not None:
            return _serve(view, request)
        return get_response(request)  # type: ignore[return-value]

    return middleware


@sync_and_async_middleware
def request_metrics(get_response: GetResponse | AsyncGetResponse) -> Callable[[HttpRequest], object]:
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            started = time.perf_counter()
            response: HttpResponse = await get_response(request)
            observe_request(request=request, status=response.status_code, seconds=time.perf_counter() - started)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response: HttpResponse = get_response(request)  # type: ignore[assignment]
        observe_request(request=request, status=response.status_code, seconds=time.perf_counter() - started)
        return response

    return middleware


def sso_origins() -> list[str]:
    """Origins of the configured identity provider (its issuer and discovery URL), if single sign-on is on."""
    urls = (getattr(settings, "OIDC_ISSUER", None), getattr(settings, "OIDC_DISCOVERY_URL", None))
    return sorted({f"{parts.scheme}://{parts.netloc}" for parts in map(urlsplit, filter(None, urls))})


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        origins = sso_origins()
        if origins:
            update = dict(parts.update or {})
            update["form-action"] = [*(update.get("form-action") or []), *origins]
            parts.update = update
        return parts
