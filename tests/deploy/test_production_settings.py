"""The settings as docker-compose.yml runs them: `check --deploy` is clean, HTTPS and cookies are strict,
logs are JSON, and the infrastructure URLs come from the secret files. Each run is a fresh process with
exactly the compose environment (secret files made by deploy/init-secrets.sh in a temporary folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.compose import ROOT, environment, resolved


@pytest.fixture(scope="module")
def production_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("production")
    secrets = base / "secrets"
    subprocess.run(["sh", str(ROOT / "deploy" / "init-secrets.sh"), str(secrets)], check=True, capture_output=True)
    env = environment(resolved()["services"]["web"])
    for name, value in env.items():
        if value.startswith("/run/secrets/"):
            env[name] = str(secrets / Path(value).name)
    env["DATA_DIR"] = str(base / "data")  # the container's /data volume
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(base),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
    }


def run_python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean(production_env):
    result = run_python(production_env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_the_development_defaults(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DATA_DIR": str(tmp_path), "DEBUG": "true"}
    result = run_python(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


SETTINGS_PROBE = """
import json, logging
import django
django.setup()
from django.conf import settings
from channels.layers import get_channel_layer
logging.getLogger("faro.probe").warning("probe %s", "message")
print(json.dumps({
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
    "hsts": settings.SECURE_HSTS_SECONDS,
    "database": [settings.DATABASES["default"]["ENGINE"], settings.DATABASES["default"]["HOST"]],
    "database_password": settings.DATABASES["default"]["PASSWORD"],
    "redis": settings.REDIS_URL,
    "broker": settings.CELERY_BROKER_URL,
    "layer": type(get_channel_layer()).__name__,
    "search": settings.SEARCH_BACKEND,
    "es_password": settings.ELASTICSEARCH_PASSWORD,
    "llm": settings.LLM_BACKEND,
    "hijack": settings.CELERY_WORKER_HIJACK_ROOT_LOGGER,
}))
"""


def test_production_settings_are_strict_and_read_the_secret_files(production_env):
    result = run_python(production_env, "-c", SETTINGS_PROBE)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    secrets = Path(production_env["SECRET_KEY_FILE"]).parent
    assert values["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["ssl_redirect"] is True
    assert values["cookies"] == [True, True]
    assert values["hsts"] >= 31_536_000
    assert values["database"] == ["django.db.backends.postgresql", "postgres"]
    assert values["database_password"] == (secrets / "postgres_password").read_text()
    assert values["redis"] == values["broker"] == (secrets / "redis_url").read_text()
    assert values["layer"] == "RedisChannelLayer"
    assert values["search"] == "elasticsearch" and values["llm"] == "tgi"
    assert values["es_password"] == (secrets / "elasticsearch_password").read_text()
    assert values["hijack"] is False, "the Celery worker keeps the JSON log handler"

    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["message"] == "probe message"
    assert record["level"] == "WARNING" and record["logger"] == "faro.probe" and "time" in record
