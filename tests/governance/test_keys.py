"""The keys of pseudonyms and of the audit trail (config/env.py ``key_or_generated``): a random key of its
own in development, never a published default, and nothing weak once DEBUG is off."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import key_or_generated
from tests.conftest import ROOT


def test_development_generates_a_random_key_once_per_data_dir(tmp_path):
    first = key_or_generated("PSEUDONYM_KEY", None, debug=True, dev_file=tmp_path / "a" / "pseudonym", required=False)
    again = key_or_generated("PSEUDONYM_KEY", None, debug=True, dev_file=tmp_path / "a" / "pseudonym", required=False)
    other = key_or_generated("PSEUDONYM_KEY", None, debug=True, dev_file=tmp_path / "b" / "pseudonym", required=False)
    assert first is not None and first == again != other and len(first) == 64 and first != "dev-only-pseudonym-key"
    assert (tmp_path / "a" / "pseudonym").stat().st_mode & 0o077 == 0, "readable by its owner only"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["pseudonym"]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("dev-only-pseudonym-key", "published default"),
        ("CHANGEME", "published default"),
        ("0123456789abcdef", "too weak"),  # 16 characters
        ("a" * 64, "too weak"),
        (None, "required when DEBUG is off"),
    ],
)
def test_production_refuses_a_known_short_repetitive_or_missing_key(value, error, tmp_path):
    with pytest.raises(ImproperlyConfigured, match=error):
        key_or_generated("AUDIT_KEY", value, debug=False, dev_file=tmp_path / "k", required=True)
    assert not (tmp_path / "k").exists()


def test_production_takes_a_strong_key_and_may_leave_an_optional_one_unset(tmp_path):
    strong = secrets.token_hex(32)
    assert key_or_generated("AUDIT_KEY", strong, debug=False, dev_file=tmp_path / "k", required=True) == strong
    assert key_or_generated("PSEUDONYM_KEY", None, debug=False, dev_file=tmp_path / "k", required=False) is None


PROBE = "import json, django; django.setup(); from django.conf import settings; " + (
    "print(json.dumps([settings.PSEUDONYM_KEY, settings.AUDIT_KEY]))"
)


def _settings(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env | environment, capture_output=True, text=True, timeout=120
    )


def test_settings_in_development_use_generated_keys_in_the_data_dir(tmp_path):
    result = _settings(tmp_path, DEBUG="on")
    assert result.returncode == 0, result.stderr
    pseudonym, audit = json.loads(result.stdout)
    assert pseudonym == (tmp_path / "keys" / "pseudonym").read_text() != "dev-only-pseudonym-key"
    assert audit == (tmp_path / "keys" / "audit").read_text() != pseudonym


def test_settings_without_debug_refuse_the_old_public_pseudonym_key(tmp_path):
    result = _settings(
        tmp_path,
        DEBUG="off",
        SECRET_KEY=secrets.token_urlsafe(50),
        AUDIT_KEY=secrets.token_hex(32),
        PSEUDONYM_KEY="dev-only-pseudonym-key",
    )
    assert result.returncode != 0 and "PSEUDONYM_KEY is a published default" in result.stderr
