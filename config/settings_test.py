"""Test settings: the same settings with infrastructure swapped for throwaway locations only."""

import os

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, DATABASES, REDIS_URL

# Separate folders let two test runs share a checkout (FARO_TEST_DATA_DIR).
TEST_DATA_DIR = (BASE_DIR / os.environ.get("FARO_TEST_DATA_DIR", "var/test")).resolve()
TEST_DATA_DIR.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = TEST_DATA_DIR / "uploads"
EMBEDDED_INDEX_PATH = TEST_DATA_DIR / "index.sqlite3"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["NAME"] = str(TEST_DATA_DIR / "faro.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_DATA_DIR / "test-faro.sqlite3")}
if not REDIS_URL:
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_ALWAYS_EAGER = False
GENERATOR_MAX_NEW_TOKENS = 24  # short answers keep the real model fast in tests
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
