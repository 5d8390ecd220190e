"""Database work from the chat's async code (the consumer and the answer flow).

Channels' ``database_sync_to_async`` runs every call on one shared thread by default (thread-sensitive),
so under many concurrent questions that one thread became the chat's bottleneck (``bench/ws_load.py``).
Each call here is self-contained (its own transaction; the connection is closed, or returned to the pool,
when it ends), so it may run on any thread of the event loop's executor, several at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async


def orm(func: Callable[..., Any]) -> Any:
    """``func`` as a coroutine function running on an executor thread, with Channels' connection cleanup."""
    return database_sync_to_async(func, thread_sensitive=False)
