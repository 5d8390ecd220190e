"""Settings fail loudly, and the production path really runs on PostgreSQL and Redis when asked."""

from __future__ import annotations

import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_secret


def test_typed_helpers_reject_bad_values(monkeypatch):
    monkeypatch.setenv("FARO_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FARO_FLAG"):
        env_bool("FARO_FLAG", False)
    monkeypatch.setenv("FARO_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("FARO_NUMBER", 1)
    monkeypatch.setenv("FARO_CHOICE", "solr")
    with pytest.raises(ImproperlyConfigured, match="must be one of embedded, elasticsearch"):
        env_choice("FARO_CHOICE", "embedded", ("embedded", "elasticsearch"))


def test_secrets_come_from_a_file_or_the_variable_not_both(monkeypatch, tmp_path):
    secret = tmp_path / "token"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("FARO_TOKEN_FILE", str(secret))
    assert env_secret("FARO_TOKEN") == "s3cret"
    monkeypatch.setenv("FARO_TOKEN", "other")
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env_secret("FARO_TOKEN")


def test_defaults_are_embedded(settings):
    if os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL"):
        pytest.skip("this run uses the production path")
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings.SEARCH_BACKEND == "embedded"
    assert settings.LLM_BACKEND == "local"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"


@pytest.mark.django_db
def test_production_path_uses_postgresql_and_redis_when_configured():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("DATABASE_URL does not point at PostgreSQL in this run (make test-production does)")
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.db import connection

    from config.celery import app

    assert connection.vendor == "postgresql"
    assert os.environ.get("REDIS_URL"), "the production run sets REDIS_URL too"
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer"
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "ping"})
    assert async_to_sync(layer.receive)(channel) == {"type": "ping"}
    assert app.conf.broker_url == os.environ["REDIS_URL"]
