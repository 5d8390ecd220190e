"""PII detection on text its rules were not written for (issue #16), and the behaviours the issue asked for.

The figures: ``pytest tests/governance/test_pii_independent.py -s`` prints precision and recall by kind,
exact and by overlap, and the share of data wholly hidden, for the project's generated set and the three
hand-written ones (see make_pii_independent.py for which was tuned on). Floors sit a little below what the
detector reaches, so a regression fails.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from governance.pii import LabelledCase, find_pii, pseudonymise, pseudonymise_all
from governance.pii_metrics import pii_report

HERE = Path(__file__).parent
KEY = b"test-key"
# (file, overlap precision floor, whole-datum recall floor)
SETS = [
    ("pii_cases.jsonl", 0.99, 0.99),
    ("pii_independent_dev.jsonl", 0.97, 0.97),
    ("pii_independent_heldout.jsonl", 0.97, 0.97),
    ("pii_independent_fresh.jsonl", 0.97, 0.95),
]


def _cases(name: str) -> list[LabelledCase]:
    return [json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(("name", "precision", "recall"), SETS)
def test_precision_and_recall_by_kind(name, precision, recall):
    report = pii_report(_cases(name))
    print(f"\n{name}\n{report.table()}")
    for line in report.missed + report.partly_readable:
        print("  missed:", line)
    for line in report.false_alarms:
        print("  false alarm:", line)
    assert report.total.overlap_precision >= precision
    assert report.total.whole_recall >= recall
    assert report.partly_readable == []  # no surname left readable after its first name was replaced


def test_the_independent_sets_are_half_look_alikes():
    cases = [case for name, *_ in SETS[1:] for case in _cases(name)]
    with_data = sum(bool(case["spans"]) for case in cases)
    assert len(cases) >= 270 and 0.45 <= with_data / len(cases) <= 0.55


def _hidden(text: str, **kwargs) -> str:
    return pseudonymise(text, key=KEY, **kwargs).text


@pytest.mark.parametrize(
    ("text", "readable"),
    [
        ("Hola, soy pedro martínez de nóminas", "martínez"),
        ("Jordi Puig pide el certificado", "Puig"),
        ("¿Puedes llamar a Íñigo Etxeberria?", "Etxeberria"),
        ("Hi, I'm James O'Brien from payroll", "Brien"),
        ("hablé con lucia fernandez ayer", "fernandez"),
        ("El expediente de Jose Angel Nuñez", "Nuñez"),
        ("Dile a javi ruiz que ya está", "ruiz"),
        ("María José García-Pelayo de la Fuente se incorpora", "Fuente"),
        ("La candidata Rosa María Prieto viene el jueves", "Prieto"),
        ("Beneficiario: SÁNCHEZ MOLINA, Juan", "MOLINA"),
        ("Ask Mr. Henderson about the keys", "Henderson"),
    ],
)
def test_a_full_name_is_replaced_whole_directory_or_not(text, readable):
    hidden = _hidden(text)
    assert readable not in hidden and "<PERSON_" in hidden


def test_a_surname_alone_is_hidden_when_the_directory_or_the_text_names_it():
    names = ["María José", "García-Pelayo de la Fuente", "María José García-Pelayo de la Fuente"]
    assert "García-Pelayo" not in _hidden("Según García-Pelayo, el plan se retrasa.", known_names=names)
    text = "Firmó Aitor Zubizarreta. Zubizarreta enviará el resto."
    assert "Zubizarreta" not in _hidden(text)


def _pseudonyms(text: str, kind: str) -> set[str]:
    return set(re.findall(rf"<{kind}_[0-9a-f]+>", text))


def test_one_phone_in_three_formats_gets_one_pseudonym():
    hidden = _hidden("Llámame al +34 688 214 503, al 688 21 45 03 o al (+34) 688-214-503.")
    assert len(_pseudonyms(hidden, "PHONE")) == 1 and hidden.count("<PHONE_") == 3


def test_one_person_under_several_forms_gets_one_pseudonym():
    names = ["María José", "García-Pelayo de la Fuente", "María José García-Pelayo de la Fuente"]
    text = "María José García-Pelayo de la Fuente se incorpora el lunes; María José estará en selección."
    assert len(_pseudonyms(_hidden(text), "PERSON")) == 1  # within the text
    alone = _hidden("Hablé con María José.", known_names=names)
    assert _pseudonyms(alone, "PERSON") == _pseudonyms(_hidden(text, known_names=names), "PERSON")  # directory
    assert len(_pseudonyms(_hidden("Dile a javi ruiz que Javier Ruiz firme."), "PERSON")) == 1  # nickname
    question, answer = pseudonymise_all(["Soy Pedro Martínez Soto", "Hola Pedro, gracias"], key=KEY)
    assert _pseudonyms(question.text, "PERSON") == _pseudonyms(answer.text, "PERSON")  # across texts


def test_one_dni_or_iban_however_written_gets_one_pseudonym():
    hidden = _hidden(
        "DNI 23.456.789-D, 23456789D y 23456789 d; cuenta ES0521003879150200471836 o ES05 2100 3879 15 0200471836"
    )
    assert len(_pseudonyms(hidden, "DNI")) == 1 and hidden.count("<DNI_") == 3
    assert len(_pseudonyms(hidden, "IBAN")) == 1 and hidden.count("<IBAN_") == 2


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Mi DNI es 58.522.765-R y necesito el certificado", "58.522.765-R"),
        ("El DNI antiguo de mi padre es 1169925-F", "1169925-F"),
        ("Documento: 74489023 G", "74489023 G"),
        ("DNI 72977987e", "72977987e"),
    ],
)
def test_dni_forms(text, value):
    assert [(m.kind, m.value) for m in find_pii(text)] == [("DNI", value)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Cambiad la cuenta a ES35 0081 8466 51 2761759970 BIC BSABESBBXXX", "ES35 0081 8466 51 2761759970"),
        ("Devolución a ES0300817431950282316607 BIC BSABESBB, pedido 77812", "ES0300817431950282316607"),
        ("IBAN ES64 2085 6112 2053 0342 7280, titular", "ES64 2085 6112 2053 0342 7280"),
        ("La cuenta antigua era la 2085 6112 20 5303427280, ya no la uso", "2085 6112 20 5303427280"),
    ],
)
def test_iban_grouped_followed_by_text_and_the_domestic_account_number(text, value):
    assert [(m.kind, m.value) for m in find_pii(text)] == [("IBAN", value)]


DIRECTORY = ["Santiago", "Santiago Rey", "Rey", "Mercedes", "Mercedes Ortiz", "Ortiz", "Pilar", "Pilar Sanz"]
DIRECTORY += ["Sanz", "Carmen", "Carmen Villanueva", "Villanueva"]


@pytest.mark.parametrize(
    "text",
    [
        "La reunión es en Santiago de Compostela, en la sede de la calle del Franco.",
        "El Mercedes Clase C de la flota tiene la ITV caducada.",
        "El plan de pensiones es el primer pilar del paquete de beneficios.",
        "La nueva oficina está en Villanueva de la Cañada, junto al parque tecnológico.",
        "El número de siniestro es 912345678; guárdalo para cualquier consulta.",
        "Claim number 700123456 has been assigned to your case.",
        "Order 2324-9536-7184-0267 totals 3,400 GBP.",  # passes Luhn with a card prefix
        "La avenida Juan Carlos I está cortada por la maratón.",
        # From the demo policies (demo/sources), ordinary company text:
        "Lumen tiene contratada una póliza colectiva de salud con Salud Plus Seguros, sin copagos.",
        "Report any loss to IT, or by phone on extension 4444 outside office hours.",
        "## 2. Marco normativo",
    ],
)
def test_places_things_and_reference_numbers_are_not_personal_data(text):
    assert find_pii(text, known_names=DIRECTORY) == []


def test_directory_people_are_still_found_by_those_names():
    found = find_pii("Santiago Rey y Mercedes Ortiz hablaron con Pilar.", known_names=DIRECTORY)
    assert [m.value for m in found] == ["Santiago Rey", "Mercedes Ortiz", "Pilar"]


def test_long_runs_of_letters_and_digits_do_not_make_the_patterns_backtrack():
    find_pii("warm up")  # the name lists load once per process
    text = ("ES12" + "1" * 38 + "z ") * 20  # an IBAN pattern with free group sizes took 2.3 s on this
    started = time.perf_counter()
    assert find_pii(text) == []
    assert time.perf_counter() - started < 0.5
