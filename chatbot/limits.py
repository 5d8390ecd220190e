"""Per-user rate limit and per-conversation lock of the chat, kept in Django's cache so that they hold
across web processes when the cache is shared (Redis when ``REDIS_URL`` is set).

Synchronous on purpose: the consumer makes one thread hop for all its checks of a message, since Django's
async cache methods are thread hops of their own and queue behind every ORM call under load."""

from __future__ import annotations

import time

from django.core.cache import cache

WINDOW_SECONDS = 60


def rate_limit_wait(user_id: int, *, per_minute: int) -> int:
    """Count one question; 0 when it may go ahead, else the seconds until the user's minute is over."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"faro:chat:rate:{user_id}:{window}"
    if cache.add(key, 1, timeout=2 * WINDOW_SECONDS):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between the two calls: this is the first of a new window
            cache.set(key, 1, timeout=2 * WINDOW_SECONDS)
            count = 1
    if count <= per_minute:
        return 0
    return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))


def _lock_key(user_id: int, conversation_id: int) -> str:
    # Keyed by the asking user too: someone probing another person's conversation id never meets its
    # lock (and learns nothing from "busy"); the answer flow then answers "not found".
    return f"faro:chat:busy:{user_id}:{conversation_id}"


def conversation_lock(user_id: int, conversation_id: int, *, owner: str, seconds: float) -> bool:
    """Take the conversation for one answer; False when another answer in it is still being written.
    The lock expires by itself after ``seconds`` in case its holder died."""
    return bool(cache.add(_lock_key(user_id, conversation_id), owner, timeout=int(seconds) + 1))


def conversation_unlock(user_id: int, conversation_id: int, *, owner: str) -> None:
    key = _lock_key(user_id, conversation_id)
    if cache.get(key) == owner:
        cache.delete(key)
