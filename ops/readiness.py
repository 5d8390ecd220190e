"""Readiness: can this process answer questions now? One cheap probe per dependency, each with a short
timeout; the report names every check and which of them failed.

The probes never load a model or run a real question: the database answers ``SELECT 1``, Redis answers
``PING``, the search backend runs one filtered query that matches nothing (Elasticsearch: the index's
cluster health), and the generator is asked for its ``/health`` (TGI) or its model file is looked up
(local).
"""

from __future__ import annotations

import logging
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 2.0
# A principal no user ever has: the probe search exercises the index and its access filter, and finds nothing.
PROBE_PRINCIPAL = "ops:readiness-probe"


class NotReady(Exception):
    """A dependency answered, but not in a state that can serve."""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str  # "ok", "skipped: <why>", or the error's type; full errors go to the log only
    ms: float


def check_database() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_redis() -> str:
    if not settings.REDIS_URL:
        return "skipped: REDIS_URL is not set"
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def check_search() -> str:
    import numpy as np

    from ingestion.search import get_search_backend
    from ingestion.search.elastic import ElasticsearchBackend

    backend = get_search_backend()
    if isinstance(backend, ElasticsearchBackend):
        index = settings.ELASTICSEARCH_INDEX  # an alias or an index; cluster health takes either
        client = backend.client.options(request_timeout=PROBE_TIMEOUT_SECONDS, max_retries=0)
        if client.cluster.health(index=index)["status"] == "red":
            raise NotReady(f"index {index} is red")
        return "ok"
    backend.search("readiness", np.zeros(1, dtype=np.float32), principals=frozenset({PROBE_PRINCIPAL}), k=1)
    return "ok"


def generator_health_url(base_url: str) -> str:
    """TGI's ``/health`` beside its Messages API, whether the configured URL ends in ``/v1`` or not."""
    root = base_url.rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    return f"{root}/health"


def check_generator() -> str:
    if settings.LLM_BACKEND == "extractive":
        return "skipped: LLM_BACKEND=extractive needs no generator"
    if settings.LLM_BACKEND == "local":
        if not Path(settings.GENERATOR_MODEL).exists():
            raise NotReady("GENERATOR_MODEL does not exist")
        return "ok"
    if not settings.TGI_URL:
        raise NotReady("LLM_BACKEND=tgi needs TGI_URL")
    request = urllib.request.Request(generator_health_url(settings.TGI_URL), method="GET")
    if settings.TGI_TOKEN:
        request.add_header("Authorization", f"Bearer {settings.TGI_TOKEN}")
    with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_SECONDS) as response:
        if response.status != 200:
            raise NotReady(f"generator answered {response.status}")
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "redis": check_redis,
    "search": check_search,
    "generator": check_generator,
}


def _run(name: str, check: Callable[[], str]) -> CheckResult:
    started = time.perf_counter()
    try:
        detail, ok = check(), True
    except Exception as error:
        logger.warning("readiness check %s failed: %s", name, error, exc_info=not isinstance(error, NotReady))
        detail, ok = type(error).__name__, False
    return CheckResult(ok=ok, detail=detail, ms=round((time.perf_counter() - started) * 1000, 1))


def readiness_report() -> dict[str, Any]:
    """``{"status": "ready" | "unavailable", "failed": [names], "checks": {name: {ok, detail, ms}}}``."""
    results = {name: _run(name, check) for name, check in CHECKS.items()}
    failed = [name for name, result in results.items() if not result.ok]
    return {
        "status": "unavailable" if failed else "ready",
        "failed": failed,
        "checks": {name: asdict(result) for name, result in results.items()},
    }
