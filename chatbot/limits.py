"""Per-user rate limit and per-conversation lock of the chat, kept in Django's cache so that they hold
across web processes when the cache is shared (Redis when ``REDIS_URL`` is set).

Synchronous on purpose: the consumer makes one thread hop for all its checks of a message, since Django's
async cache methods are thread hops of their own and queue behind every ORM call under load."""

from __future__ import annotations

import math
import time

from django.core.cache import cache

WINDOW_SECONDS = 60
SLOT_SECONDS = 1
# A question counts in its one-second slot; the limit is checked over the slot now and the 60 before it,
# a little more than a minute, so that no 60 s anywhere (across a minute boundary too) hold more than it.
_SLOTS = WINDOW_SECONDS // SLOT_SECONDS + 1


def _rate_key(user_id: int, slot: int) -> str:
    return f"faro:chat:rate:{user_id}:{slot}"


def _count(key: str) -> None:
    # add and incr are atomic in Redis and in the local-memory cache; the key of the current slot is at
    # most a second old, so it cannot expire between the two calls.
    timeout = WINDOW_SECONDS + 2 * SLOT_SECONDS
    if not cache.add(key, 1, timeout=timeout):
        cache.incr(key)


def rate_limit_wait(user_id: int, *, per_minute: int) -> int:
    """Count one question; 0 when it may go ahead, else the seconds until it would.

    A sliding window: at most ``per_minute`` questions in any 60 s. The question is counted first and the
    window summed after, so two processes admitting at once both see each other (at worst both refuse),
    and a refused question is taken back, so asking while limited does not keep the limit on."""
    now = time.time()
    current = int(now // SLOT_SECONDS)
    key = _rate_key(user_id, current)
    _count(key)
    slots = range(current - _SLOTS + 1, current + 1)
    stored = cache.get_many([_rate_key(user_id, slot) for slot in slots])
    counts = [(slot, int(stored.get(_rate_key(user_id, slot), 0))) for slot in slots]
    total = sum(count for _, count in counts)
    if total <= per_minute:
        return 0
    try:
        cache.decr(key)
    except ValueError:  # already gone: nothing to take back
        pass
    # The oldest questions leave the window slot by slot; wait until enough have for one more to fit.
    leaving, needed = 0, total - per_minute
    for slot, count in counts:
        leaving += count
        if leaving >= needed:
            return max(1, math.ceil((slot + _SLOTS) * SLOT_SECONDS - now))
    return WINDOW_SECONDS  # not reached: the current slot holds this question


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
