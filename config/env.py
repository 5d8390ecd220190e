"""Typed readers for environment variables that fail loudly.

Every secret may also be given as ``<NAME>_FILE`` pointing at a file (Docker/Kubernetes secrets).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"environment variable {name} is required")
        return default
    return value


def env_optional(name: str) -> str | None:
    value = os.environ.get(name)
    return value or None


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use one of {sorted(_TRUE | _FALSE)})")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None


def env_optional_float(name: str) -> float | None:
    """A number, or None when unset (the caller then derives its own default)."""
    return env_float(name, 0.0) if env_optional(name) is not None else None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read ``NAME`` or the contents of the file named by ``NAME_FILE``; never both."""
    direct = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if direct and file_name:
        raise ImproperlyConfigured(f"set {name} or {name}_FILE, not both")
    if file_name:
        path = Path(file_name)
        if not path.is_file():
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} is not a readable file")
        return path.read_text(encoding="utf-8").strip()
    return direct or default


def env_map(name: str) -> dict[str, str]:
    """``key=value,key=value`` (the last ``=`` splits, so keys may contain one); empty when unset."""
    mapping: dict[str, str] = {}
    for item in env_list(name, []):
        key, separator, value = item.rpartition("=")
        if not separator or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name}: {item!r} is not key=value")
        mapping[key.strip()] = value.strip()
    return mapping


# Keys of keyed hashes (pseudonyms, the audit chain) that must never key anything: the public development
# defaults of earlier versions and the usual placeholders.
KNOWN_KEYS = frozenset(
    {"dev-only-pseudonym-key", "dev-only-insecure-key", "changeme", "change-me", "change_me", "secret", "password"}
)
KEY_MIN_CHARS = 32


def key_or_generated(name: str, value: str | None, *, debug: bool, dev_file: Path, required: bool) -> str | None:
    """The secret key ``value`` read for ``name`` (``env_secret``), checked.

    In development (``debug``) an unset key is generated once at random into ``dev_file`` and read from
    there afterwards, so no public default ever keys a hash. With ``debug`` off a known, short (under
    ``KEY_MIN_CHARS``) or repetitive key is refused, and so is an unset one when ``required``.
    """
    if value is None:
        if debug:
            return _generated_key(dev_file)
        if required:
            raise ImproperlyConfigured(f"{name} (or {name}_FILE) is required when DEBUG is off")
        return None
    if not debug:
        if value.strip().lower() in KNOWN_KEYS:
            raise ImproperlyConfigured(f"{name} is a published default: generate one (deploy/init-secrets.sh)")
        if len(value) < KEY_MIN_CHARS or len(set(value)) < 8:
            raise ImproperlyConfigured(
                f"{name} is too weak: at least {KEY_MIN_CHARS} random characters (openssl rand -hex 32)"
            )
    return value


def _generated_key(path: Path) -> str:
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(secrets.token_hex(32), encoding="utf-8")
        temporary.chmod(0o600)
        try:
            os.link(temporary, path)  # atomic: of two processes starting at once, one key wins
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text(encoding="utf-8").strip()
