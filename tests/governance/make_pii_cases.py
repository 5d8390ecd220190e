"""Generate the labelled PII test set (pii_cases.jsonl) deterministically: valid identifiers in Spanish and
English sentences, plus look-alikes that must NOT be flagged (bad check digits, order numbers, dates,
amounts, postcodes). Run: python tests/governance/make_pii_cases.py"""

from __future__ import annotations

import json
import random
from pathlib import Path

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
rng = random.Random(20261127)


def dni() -> str:
    n = rng.randrange(10**7, 10**8)
    return f"{n:08d}{DNI_LETTERS[n % 23]}"


def bad_dni() -> str:
    n = rng.randrange(10**7, 10**8)
    return f"{n:08d}{DNI_LETTERS[(n + 1) % 23]}"


def nie() -> str:
    prefix = rng.choice("XYZ")
    n = rng.randrange(10**6, 10**7)
    return f"{prefix}{n:07d}{DNI_LETTERS[int(str('XYZ'.index(prefix)) + f'{n:07d}') % 23]}"


def iban(bad: bool = False) -> str:
    bank = "".join(str(rng.randrange(10)) for _ in range(20))
    digits = "".join(str(int(ch, 36)) for ch in bank + "ES00")
    check = 98 - int(digits) % 97
    if bad:
        check = (check + 1) % 100
    raw = f"ES{check:02d}{bank}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def card(bad: bool = False) -> str:
    body = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for position, digit in enumerate(reversed(body)):
        if position % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    check = (10 - total % 10) % 10
    if bad:
        check = (check + 1) % 10
    raw = "".join(map(str, [*body, check]))
    return " ".join(raw[i : i + 4] for i in range(0, 16, 4))


def nss() -> str:
    province = rng.randrange(1, 53)
    number = rng.randrange(10**7, 10**8)
    control = (number + province * 10**8) % 97
    return f"{province:02d} {number:08d} {control:02d}"


def us_ssn() -> str:
    return f"{rng.randrange(100, 666):03d}-{rng.randrange(1, 99):02d}-{rng.randrange(1, 9999):04d}"


def mobile() -> str:
    return f"6{rng.randrange(10):d}{rng.randrange(10):d} {rng.randrange(100, 999)} {rng.randrange(100, 999)}"


def email(name: str) -> str:
    ascii_name = name.lower().replace(" ", ".").translate(str.maketrans("áéíóú", "aeiou"))
    return f"{ascii_name}@{rng.choice(['lumen.example', 'gmail.com', 'correo.es'])}"


NAMES = ["Ana López", "Carlos Ruiz", "Marta Gil", "John Smith", "Laura Pérez", "Peter Brown"]

TEMPLATES = [
    ("Hola, soy {name} y mi DNI es {DNI}.", ["PERSON", "DNI"]),
    ("El NIE de la nueva incorporación es {NIE}; su IBAN es {IBAN}.", ["NIE", "IBAN"]),
    ("Please refund card {CARD} and email {EMAIL}.", ["CARD", "EMAIL"]),
    ("Mi número de la Seguridad Social es {NSS} y mi móvil {PHONE}.", ["SSN", "PHONE"]),
    ("Employee {name}, SSN {USSSN}, phone +44 20 7946 0{d3}.", ["PERSON", "SSN", "PHONE"]),
    ("Transferid la nómina de {name} a la cuenta {IBAN}.", ["PERSON", "IBAN"]),
    ("Contacto: {EMAIL}, tel. +34 {PHONE}.", ["EMAIL", "PHONE"]),
    ("El pedido 2026-{d4}-{d4} de 1.250,00 EUR llega el 15/03/2026 al CP 28014.", []),
    ("Referencia {BADDNI} (letra incorrecta) y cuenta {BADIBAN} sin validar.", []),
    ("Order {d4}-{d4}-{d4}-{d4} totals 3,400 GBP; ticket #{d6}.", []),
    ("La tarjeta {BADCARD} fue rechazada por el banco.", []),
    ("Factura F-{d6} del proveedor, importe 15.000 EUR, vence el 30 de abril.", []),
]


def fill(template: str) -> dict[str, object]:
    name = rng.choice(NAMES)
    values: dict[str, str] = {
        "name": name,
        "DNI": dni(),
        "NIE": nie(),
        "IBAN": iban(),
        "CARD": card(),
        "EMAIL": email(name),
        "NSS": nss(),
        "PHONE": mobile(),
        "USSSN": us_ssn(),
        "BADDNI": bad_dni(),
        "BADIBAN": iban(bad=True),
        "BADCARD": card(bad=True),
    }
    digits = {"d3": 3, "d4": 4, "d6": 6}
    text = template
    spans: list[dict[str, object]] = []
    kinds = {"name": "PERSON", "DNI": "DNI", "NIE": "NIE", "IBAN": "IBAN", "CARD": "CARD", "EMAIL": "EMAIL"}
    kinds |= {"NSS": "SSN", "USSSN": "SSN"}
    # Substitute left to right, recording where each labelled value lands.
    while "{" in text:
        start = text.index("{")
        end = text.index("}", start)
        key = text[start + 1 : end]
        value = f"{rng.randrange(10 ** digits[key]):0{digits[key]}d}" if key in digits else values[key]
        text = text[:start] + value + text[end + 1 :]
        if key in kinds:
            spans.append({"kind": kinds[key], "start": start, "end": start + len(value)})
        elif key == "PHONE":
            begin = start - 4 if text[max(0, start - 4) : start] == "+34 " else start
            spans.append({"kind": "PHONE", "start": begin, "end": start + len(value)})
    if "+44 20 7946" in text:
        begin = text.index("+44 20 7946")
        spans.append({"kind": "PHONE", "start": begin, "end": begin + len("+44 20 7946 0000")})
    return {"text": text, "names": NAMES, "spans": sorted(spans, key=lambda s: int(str(s["start"])))}


def main() -> None:
    cases = [fill(template) for _ in range(20) for template, _ in TEMPLATES]
    path = Path(__file__).with_name("pii_cases.jsonl")
    path.write_text("".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases), encoding="utf-8")
    print(f"{len(cases)} cases written to {path}")


if __name__ == "__main__":
    main()
