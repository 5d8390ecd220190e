"""Database work from the chat's async code (the consumer and the answer flow).

Channels' ``database_sync_to_async`` runs every call on one shared thread by default (thread-sensitive),
so under many concurrent questions that one thread became the chat's bottleneck (``bench/ws_load.py``).
Each call here is self-contained (its own transaction; the connection is closed, or returned to the pool,
when it ends), so it may run on any thread of the event loop's executor, several at once.

The call closes its thread's connection itself rather than leaving it to Channels' wrapper, which Channels'
own test communicator turns into a no-op: the connections of the chat's tests then outlived their threads
and still held PostgreSQL's test database when it was dropped.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async
from django.db import close_old_connections


def orm(func: Callable[..., Any]) -> Any:
    """``func`` as a coroutine function running on an executor thread; the thread's connection is closed
    when it returns (or kept, up to ``CONN_MAX_AGE``, as Django does after a request)."""

    @functools.wraps(func)
    def closing(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return database_sync_to_async(closing, thread_sensitive=False)
