"""An attacker with an audit export and no key: can a stored field confirm or recover an original value?

The attacker holds what an auditor downloads (``/audit/?format=jsonl``) and a dictionary: names, and every
valid DNI of a range of 10^5 numbers with its check letter. Against each text field the attacker fills the
pseudonym's place with every candidate and hashes the result (also each candidate alone, its unkeyed
pseudonym and its pseudonym under the old public development key), then looks for a match anywhere in the
export. Against the trail as earlier versions wrote it (an unkeyed SHA-256 of the original text beside the
pseudonymised text) the same attack recovers every value, so this test can fail; against the keyed trail it
recovers nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from django.test import Client

from governance.audit import audit_record
from governance.names import name_words
from governance.pii import DNI_LETTERS, pseudonym, pseudonymise
from governance.privacy import audit_texts

pytestmark = pytest.mark.django_db

FIRST_NAMES = (
    "Lucía María Carmen Ana Laura Marta Sofía Paula Elena Sara Isabel Cristina Pilar Rosa Julia Andrea Irene "
    "Antonio José Manuel Francisco David Juan Javier Daniel Carlos Jesús Alejandro Miguel Rafael Pablo Pedro "
    "Sergio Fernando Jorge Luis Alberto Álvaro Diego Adrián Raúl Iñigo Jordi Nuria Montserrat Ainhoa"
).split()
SURNAMES = (
    "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández Díaz "
    "Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos Gil Ramírez Serrano "
    "Blanco Molina Morales Suárez Ortega Delgado Castro Ortiz Rubio Marín Sanz Núñez Iglesias Medina Garrido "
    "Puig Etxeberria"
).split()
NAMES = [*FIRST_NAMES, *SURNAMES, *(f"{first} {last}" for first in FIRST_NAMES for last in SURNAMES)]
DNIS = [f"{number}{DNI_LETTERS[number % 23]}" for number in range(12_300_000, 12_400_000)]
CANDIDATES = {"PERSON": NAMES, "DNI": DNIS}

SECRETS = {"Lucía Fernández": "PERSON", "12345678Z": "DNI", "12399999D": "DNI"}
TEXTS = [
    "Lucía Fernández",
    "12345678Z",
    "Hola, soy Lucía Fernández y no me ha llegado la nómina de marzo",
    "Mi DNI es 12345678Z, ¿podéis revisar mi ficha?",
    "El DNI de mi hermano es 12399999D",
]
PUBLISHED_KEY = b"dev-only-pseudonym-key"
_PLACEHOLDER = re.compile(r"<([A-Z]+)_([0-9a-f]{10})>")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def _as_pseudonymised(kind: str, value: str) -> str:
    """The form ``governance.pii`` keys a value in (public code: the attacker knows it)."""
    return " ".join(name_words(value)) if kind == "PERSON" else value


def attack(records: list[dict[str, Any]]) -> set[str]:
    """Every candidate value some stored field confirms, by hashing guesses without the key."""
    exported = json.dumps(records, ensure_ascii=False)
    digests = set(re.findall(r"[0-9a-f]{64}", exported))
    recovered: set[str] = set()
    for text in {s for record in records for s in _strings(record)}:
        places = _PLACEHOLDER.findall(text)
        if len(places) != 1:
            continue
        (kind, pseudonym_digest), placeholder = places[0], _PLACEHOLDER.search(text).group(0)  # type: ignore[union-attr]
        before, after = text.split(placeholder)
        for value in CANDIDATES.get(kind, NAMES + DNIS):
            normalised = re.sub(r"[\s-]", "", value).lower()
            if (
                _sha256(before + value + after) in digests
                or _sha256(value) in digests
                or _sha256(f"{kind}:{normalised}")[:10] == pseudonym_digest
                or pseudonym(kind, _as_pseudonymised(kind, value), key=PUBLISHED_KEY) == placeholder
            ):
                recovered.add(value)
    return recovered


@pytest.fixture
def export(alice, auditor) -> list[dict[str, Any]]:
    alice.first_name, alice.last_name = "Lucía", "Fernández"
    alice.save()
    for text in TEXTS:  # what chat.feedback stores (chatbot/services.py feedback_record)
        audit_record(event_type="chat.feedback", actor=alice, data={"rating": -1, **audit_texts(comment=text)})
    client = Client()
    client.force_login(auditor)
    response = client.get("/audit/", {"format": "jsonl", "event_type": "chat.feedback"})
    return [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]  # type: ignore[attr-defined]


def test_the_audit_export_lets_nobody_without_the_key_confirm_a_name_or_a_dni(export):
    assert len(export) == len(TEXTS)
    assert all("<PERSON_" in r["data"]["comment"] or "<DNI_" in r["data"]["comment"] for r in export), export
    exported = json.dumps(export, ensure_ascii=False)
    assert not [value for value in SECRETS if value in exported or value.split()[-1] in exported]
    assert attack(export) == set()


def test_the_same_attack_recovers_everything_from_unkeyed_digests(export):
    """The control: the export as earlier versions wrote it, ``comment_sha256`` beside the same text."""
    by_text = dict(zip([r["data"]["comment"] for r in reversed(export)], reversed(TEXTS), strict=True))
    legacy = [r | {"data": r["data"] | {"comment_sha256": _sha256(by_text[r["data"]["comment"]])}} for r in export]
    assert attack(legacy) == set(SECRETS)


def test_the_same_attack_reverses_pseudonyms_made_with_the_old_public_development_key(export):
    """The second control: no digest at all, but pseudonyms keyed by the string earlier versions used with
    DEBUG on (settings now generate a random key into DATA_DIR instead: tests/governance/test_keys.py)."""
    names = ["Lucía Fernández", "Lucía", "Fernández"]
    public = [
        r | {"data": {"comment": pseudonymise(text, key=PUBLISHED_KEY, known_names=names).text}}
        for r, text in zip(export, TEXTS, strict=True)
    ]
    assert attack(public) == set(SECRETS)
