from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from ingestion.search.base import FixedDimensionBackend, IndexedChunk, SearchBackend, SearchHit

__all__ = ["FixedDimensionBackend", "IndexedChunk", "SearchBackend", "SearchHit", "get_search_backend"]


@cache
def get_search_backend() -> SearchBackend:
    """The configured backend (``SEARCH_BACKEND``), built once per process."""
    backend_class = import_string(settings.SEARCH_BACKENDS[settings.SEARCH_BACKEND])
    backend: SearchBackend = backend_class.from_settings()  # a class named in settings is Any until here
    return backend
