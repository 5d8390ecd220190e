"""The chat's database calls from async code leave no connection open behind them."""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from accounts.models import User
from chatbot.db import orm

pytestmark = pytest.mark.django_db(transaction=True)


def _query() -> BaseDatabaseWrapper:
    User.objects.filter(is_active=True).exists()
    return connections["default"]


async def test_each_call_closes_the_connection_it_opened():
    used = await asyncio.gather(*(orm(_query)() for _ in range(4)))
    assert all(wrapper.connection is None for wrapper in used)


async def test_the_connection_is_closed_even_where_channels_cleanup_is_off():
    # What Channels' WebsocketCommunicator does while it drives a consumer in a test.
    with mock.patch("channels.db.close_old_connections", lambda **kwargs: None):
        used = await orm(_query)()
    assert used.connection is None
