"""The chat's per-user rate limit (``chatbot/limits.py``) on the configured cache (local memory here, Redis
in the production pass): at most the limit in any 60 s, across minute boundaries too."""

from __future__ import annotations

import random

import pytest

from chatbot import limits

LIMIT = 10
MINUTE_BOUNDARY = 1_800_000_000.0  # a whole minute


class Clock:
    """The limiter's ``time`` module, at a time the test sets."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(MINUTE_BOUNDARY - 5)
    monkeypatch.setattr(limits, "time", clock)
    return clock


def fresh_user() -> int:
    return random.randrange(10**12, 10**13)  # never reused in a shared Redis


def most_in_any_minute(times: list[float]) -> int:
    return max(sum(1 for other in times if t - 60 < other <= t) for t in times)


def test_a_burst_across_a_minute_boundary_gets_no_more_than_the_limit(clock):
    user, admitted = fresh_user(), []
    while clock.now < MINUTE_BOUNDARY + 130:  # a question every 0.35 s for over two minutes
        if limits.rate_limit_wait(user, per_minute=LIMIT) == 0:
            admitted.append(clock.now)
        clock.now += 0.35
    assert most_in_any_minute(admitted) == LIMIT
    assert len(admitted) >= 2 * LIMIT  # the limit lets questions through again as the window slides


def test_a_client_that_waits_as_told_is_let_through_and_still_within_the_limit(clock):
    user, admitted, refused = fresh_user(), [], 0
    while clock.now < MINUTE_BOUNDARY + 200:
        wait = limits.rate_limit_wait(user, per_minute=LIMIT)
        if wait == 0:
            admitted.append(clock.now)
            clock.now += random.uniform(0.05, 4)
        else:
            refused += 1
            assert 1 <= wait <= 61
            clock.now += wait
            assert limits.rate_limit_wait(user, per_minute=LIMIT) == 0  # retry_after is enough
            admitted.append(clock.now)
    assert refused > 0 and most_in_any_minute(admitted) <= LIMIT


def test_refused_questions_do_not_count(clock):
    user = fresh_user()
    for _ in range(LIMIT):
        assert limits.rate_limit_wait(user, per_minute=LIMIT) == 0
        clock.now += 1
    for _ in range(50):  # hammering while limited
        assert limits.rate_limit_wait(user, per_minute=LIMIT) > 0
    clock.now = MINUTE_BOUNDARY - 5 + 61.01  # the first question has left the window
    assert limits.rate_limit_wait(user, per_minute=LIMIT) == 0
