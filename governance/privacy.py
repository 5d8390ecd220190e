"""Personal data in stored chat text: the keyed pseudonyms of ``governance.pii`` applied with the
deployment's key (``PSEUDONYM_KEY``) and the names of the people in the user directory.

Two uses: chat logs when ``PSEUDONYMISE_CHAT_LOGS`` is on, and the text kept in audit events (always
pseudonymised, or left out when there is no key), so that the trail outlives the conversations that
retention deletes without keeping raw personal data. Nothing derived from the original text is stored
without a key: its digest in the trail is an HMAC keyed by ``AUDIT_KEY``, never a plain hash that anyone
could recompute for a guessed name or DNI.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from accounts.models import User
from governance.audit import audit_key
from governance.pii import pseudonymise_all


def pseudonym_key() -> bytes | None:
    key = settings.PSEUDONYM_KEY
    return str(key).encode() if key else None


def directory_names() -> list[str]:
    """Names of the people in the user directory: full names, first names and last names."""
    names: set[str] = set()
    for first, last in User.objects.values_list("first_name", "last_name"):
        names.update(part for part in (first.strip(), last.strip(), f"{first} {last}".strip()) if part)
    return sorted(names)


def text_digest(text: str) -> str:
    """Keyed digest of an original text: with the audit key it confirms a claimed text, without it nothing."""
    return hmac.new(audit_key("text"), text.encode(), hashlib.sha256).hexdigest()


def pseudonymised_texts(*texts: str) -> list[str] | None:
    """The texts with personal identifiers replaced by keyed pseudonyms; ``None`` without a key."""
    key = pseudonym_key()
    if key is None:
        return None
    names = directory_names()
    # Together, so that a person or number gets one pseudonym across them (a question and its answer).
    return [result.text for result in pseudonymise_all(texts, key=key, known_names=names)]


def chat_log_texts(*texts: str) -> list[str]:
    """What a chat log stores: the texts as given, or pseudonymised when ``PSEUDONYMISE_CHAT_LOGS`` is on
    (settings refuse that setting without a key)."""
    if not settings.PSEUDONYMISE_CHAT_LOGS:
        return list(texts)
    clean = pseudonymised_texts(*texts)
    if clean is None:
        raise RuntimeError("PSEUDONYMISE_CHAT_LOGS needs PSEUDONYM_KEY")
    return clean


def audit_texts(**texts: str) -> dict[str, str]:
    """Audit-event fields for free text: ``<name>_hmac`` (``text_digest``) always, and ``<name>``
    pseudonymised when a pseudonym key is configured (raw text never enters the trail)."""
    fields = {f"{name}_hmac": text_digest(text) for name, text in texts.items()}
    clean = pseudonymised_texts(*texts.values())
    if clean is not None:
        fields |= dict(zip(texts, clean, strict=True))
    return fields
