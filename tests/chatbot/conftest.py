from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate-limit counters and conversation locks live in the cache: start each test without them. A shared
    Redis cache is left alone (other runs may use it), and user ids are never reused there."""
    backend = caches["default"]
    if isinstance(backend, LocMemCache):
        backend.clear()
