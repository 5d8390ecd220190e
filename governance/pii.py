"""Find and pseudonymise personal data in Spanish and English text.

Structured identifiers are accepted only when their check digits validate (DNI/NIE letter, CIF control,
IBAN mod 97, card Luhn, Spanish Social Security mod 97), which keeps precision high; phone numbers use
Google's libphonenumber port (``phonenumbers``), the well-kept reference for numbering plans. Names are
found only for people known to the user directory. Pseudonyms are a keyed HMAC of the value, so the same
person or number gets the same pseudonym throughout a dataset and cannot be reversed without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_DNI = re.compile(r"\b(\d{8})[- ]?([A-Za-z])\b")
_NIE = re.compile(r"\b([XYZxyz])[- ]?(\d{7})[- ]?([A-Za-z])\b")
_CIF = re.compile(r"\b([ABCDEFGHJNPQRSUVW])[- ]?(\d{7})[- ]?([0-9A-J])\b")
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?)\b")
# A whole run of digit groups (not a slice of a longer number such as an IBAN), 13 to 19 digits.
_CARD = re.compile(r"(?<![\dA-Za-z])(?<!\d[ -])(?:\d[ -]?){12,18}\d(?![ -]?\d)(?![A-Za-z])")
# Issuer prefixes of the card networks in use (Visa, Mastercard, Amex, Diners, Discover, JCB, UnionPay, Maestro).
_CARD_ISSUER = re.compile(r"^(4|5[1-5]|2[2-7]|3[47]|30[0-5]|3[68]|6011|65|64[4-9]|35|62|50|5[6-9]|6[37])")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_NSS = re.compile(r"\b(\d{2})[ /-]?(\d{8})[ /-]?(\d{2})\b")
_US_SSN = re.compile(r"\b(\d{3})-(\d{2})-(\d{4})\b")


@dataclass(frozen=True)
class PiiMatch:
    kind: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class PseudonymisedText:
    text: str
    replaced: Counter[str] = field(default_factory=Counter)


def _dni_valid(number: str, letter: str) -> bool:
    return DNI_LETTERS[int(number) % 23] == letter.upper()


def _nie_valid(prefix: str, number: str, letter: str) -> bool:
    return _dni_valid(str("XYZ".index(prefix.upper())) + number, letter)


def _cif_valid(letter: str, digits: str, control: str) -> bool:
    even = sum(int(d) for d in digits[1::2])
    odd = sum(sum(divmod(int(d) * 2, 10)) for d in digits[0::2])
    check = (10 - (even + odd) % 10) % 10
    if letter in "PQRSNW":
        return control == "JABCDEFGHI"[check]
    if letter in "ABEH":
        return control == str(check)
    return control in (str(check), "JABCDEFGHI"[check])


def iban_valid(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in re.sub(r"\D", "", number)]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return total % 10 == 0


def _nss_valid(province: str, number: str, control: str) -> bool:
    base = int(number) + int(province) * 10**8 if int(number) >= 10**7 else int(number) + int(province) * 10**7
    return 1 <= int(province) <= 53 and base % 97 == int(control)


def _us_ssn_valid(area: str, group: str, serial: str) -> bool:
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def find_pii(text: str, *, known_names: Iterable[str] = ()) -> list[PiiMatch]:
    """Every personal identifier found, longest first where matches overlap, in text order."""
    found: list[PiiMatch] = []

    def add(kind: str, match: re.Match[str]) -> None:
        found.append(PiiMatch(kind, match.start(), match.end(), match.group(0)))

    for match in _EMAIL.finditer(text):
        add("EMAIL", match)
    for match in _IBAN.finditer(text):
        if iban_valid(match.group(1)):
            add("IBAN", match)
    for match in _NIE.finditer(text):
        if _nie_valid(*match.groups()):
            add("NIE", match)
    for match in _DNI.finditer(text):
        if _dni_valid(*match.groups()):
            add("DNI", match)
    for match in _CIF.finditer(text):
        if _cif_valid(*match.groups()):
            add("NIF", match)
    for match in _NSS.finditer(text):
        if _nss_valid(*match.groups()):
            add("SSN", match)
    for match in _US_SSN.finditer(text):
        if _us_ssn_valid(*match.groups()):
            add("SSN", match)
    for match in _CARD.finditer(text):
        if _CARD_ISSUER.match(re.sub(r"\D", "", match.group(0))) and luhn_valid(match.group(0)):
            add("CARD", match)
    for region in ("ES", "GB"):
        for number in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            found.append(PiiMatch("PHONE", number.start, number.end, number.raw_string))
    for name in sorted({n.strip() for n in known_names if len(n.strip()) > 2}, key=len, reverse=True):
        for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE):
            add("PERSON", match)
    return _without_overlaps(found)


def _without_overlaps(matches: list[PiiMatch]) -> list[PiiMatch]:
    """Keep the longest match where several overlap (a card number is not also a phone number)."""
    kept: list[PiiMatch] = []
    for match in sorted(matches, key=lambda m: (-(m.end - m.start), m.start)):
        if all(match.end <= other.start or match.start >= other.end for other in kept):
            kept.append(match)
    return sorted(kept, key=lambda m: m.start)


def pseudonym(kind: str, value: str, *, key: bytes) -> str:
    normalised = re.sub(r"[\s-]", "", value).lower()
    digest = hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()[:10]
    return f"<{kind}_{digest}>"


def pseudonymise(text: str, *, key: bytes, known_names: Iterable[str] = ()) -> PseudonymisedText:
    matches = find_pii(text, known_names=known_names)
    parts: list[str] = []
    position = 0
    for match in matches:
        parts.append(text[position : match.start])
        parts.append(pseudonym(match.kind, match.value, key=key))
        position = match.end
    parts.append(text[position:])
    return PseudonymisedText("".join(parts), Counter(match.kind for match in matches))


@dataclass(frozen=True)
class PiiScore:
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int


def pii_evaluate(cases: Iterable[dict[str, object]]) -> PiiScore:
    """Exact-span precision and recall of ``find_pii`` on labelled cases ({text, names, spans})."""
    tp = fp = fn = 0
    for case in cases:
        text = str(case["text"])
        names = [str(name) for name in case.get("names", [])]  # type: ignore[attr-defined]
        expected = {(s["kind"], s["start"], s["end"]) for s in case["spans"]}  # type: ignore[attr-defined,index]
        predicted = {(m.kind, m.start, m.end) for m in find_pii(text, known_names=names)}
        tp += len(expected & predicted)
        fp += len(predicted - expected)
        fn += len(expected - predicted)
    return PiiScore(
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / (tp + fn) if tp + fn else 1.0,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
    )
