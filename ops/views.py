"""Operational endpoints: liveness, readiness and Prometheus metrics (served by ``ops.middleware``)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from ops.readiness import readiness_report


def live(request: HttpRequest) -> HttpResponse:
    """The process is up and serving HTTP; says nothing about its dependencies."""
    return JsonResponse({"status": "alive"})


def ready(request: HttpRequest) -> HttpResponse:
    report = readiness_report()
    return JsonResponse(report, status=200 if report["status"] == "ready" else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    if settings.METRICS_TOKEN:
        expected = f"Bearer {settings.METRICS_TOKEN}"
        if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
            return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
