from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.pii import find_pii, iban_valid, luhn_valid, pii_evaluate, pseudonymise

CASES = Path(__file__).with_name("pii_cases.jsonl")
KEY = b"test-key"


def test_precision_and_recall_on_the_labelled_set_reach_095():
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines()]
    score = pii_evaluate(cases)
    assert score.true_positives >= 250
    assert score.precision >= 0.95
    assert score.recall >= 0.95


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("DNI 12345678Z", "DNI"),
        ("NIE X1234567L", "NIE"),
        ("CIF B12345674", "NIF"),
        ("IBAN ES91 2100 0418 4502 0005 1332", "IBAN"),
        ("card 4111 1111 1111 1111", "CARD"),
        ("llámame al 612 345 678", "PHONE"),
        ("write to ana@lumen.example", "EMAIL"),
        ("SSN 123-45-6789", "SSN"),
    ],
)
def test_valid_identifiers_are_found(text, kind):
    assert [m.kind for m in find_pii(text)] == [kind]


@pytest.mark.parametrize(
    "text",
    ["DNI 12345678A", "IBAN ES92 2100 0418 4502 0005 1332", "card 4111 1111 1111 1112", "pedido 2026-0042", "CP 28014"],
)
def test_look_alikes_with_bad_check_digits_are_not(text):
    assert find_pii(text) == []


def test_validators():
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB83 WEST 1234 5698 7654 32")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_pseudonyms_are_consistent_and_keyed():
    text = "Ana López (DNI 12345678Z) escribe a Ana López: 12345678Z"
    result = pseudonymise(text, key=KEY, known_names=["Ana López"])
    assert "12345678Z" not in result.text and "Ana López" not in result.text
    dni = [token for token in result.text.split() if token.startswith("<DNI_")]
    assert len(set(token.strip(")") for token in dni)) == 1  # same value, same pseudonym
    assert result.replaced == {"PERSON": 2, "DNI": 2}
    assert pseudonymise(text, key=b"other", known_names=["Ana López"]).text != result.text
