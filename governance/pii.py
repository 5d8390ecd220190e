"""Find and pseudonymise personal data in Spanish and English text.

Structured identifiers are accepted only when their check digits validate (DNI/NIE letter, CIF control,
IBAN mod 97, the Spanish account number's two check digits, card Luhn, Spanish Social Security mod 97),
which keeps precision high; phone numbers use Google's libphonenumber port (``phonenumbers``), the
well-kept reference for numbering plans. Names are found by ``governance.names`` (name lists and rules;
in the user directory or not). Pseudonyms are a keyed HMAC of the value written one way, so the same
person or number gets the same pseudonym throughout a dataset and cannot be reversed without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

import phonenumbers

from governance.names import find_names, name_words

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
# Eight digits, or the seven of an old DNI, optionally dotted ("23.456.789-D", "5283947-L").
_DNI = re.compile(r"(?<![\w.-])(\d{1,2}\.\d{3}\.\d{3}|\d{7,8})[- ]?([A-Za-z])\b")
_NIE = re.compile(r"\b([XYZxyz])[- ]?(\d{7})[- ]?([A-Za-z])\b")
_CIF = re.compile(r"\b([ABCDEFGHJNPQRSUVW])[- ]?(\d{7})[- ]?([0-9A-J])\b")
# A country code, check digits and up to 30 letters or digits in groups of any size; the IBAN is the longest
# prefix that ends between groups and passes the checksum (so "... 6607 BIC BSABESBB" and the Spanish
# banks' "ES05 2100 3879 15 0200471836" are both read right).
# Groups are split only at a space or a dash, so the pattern cannot backtrack through the ways of cutting
# one long run of characters into groups (that took seconds on a 45-character string).
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]*(?:[ -][A-Z0-9]+){0,12}")
# The Spanish domestic account number (CCC): bank, branch, two check digits, account.
_CCC = re.compile(r"(?<![\w-])(\d{4})[ -]?(\d{4})[ -]?(\d{2})[ -]?(\d{10})(?![\w-])")
# Words just before a number that make it a reference, not a phone ("siniestro 912345678", "pedido nº").
_REFERENCE_WORDS = re.compile(
    r"(siniestro|reclamaci[oó]n|pedido|factura|expediente|referencia|ref|p[oó]liza|lote|ticket|"
    r"incidencia|claim|order|invoice|policy|reference|tracking)\W+(?:(?:es|n[ºo°]?|number|no|"
    r"n[uú]mero|is|#)\W*){0,3}$",
    re.IGNORECASE,
)
# Words before a number that make it a phone even where the numbering plan is not known to be in use.
_PHONE_WORDS = re.compile(
    r"(tel[eé]fono|tel|tfno|m[oó]vil|fijo|ll[aá]ma(?:me|r)?|whatsapp|phone|mobile|call|landline)\W+"
    r"(?:[^\W\d]+\W+){0,4}$",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_EXTENSION = re.compile(r"\b(?:ext|extensi[oó]n|extension)\W*$", re.IGNORECASE)
_PHONE_CUE = re.compile(r"tel|m[oó]vil|fijo|ll[aá]ma|whatsapp|phone|mobile|call|landline", re.IGNORECASE)
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
    # The value written one way, so that "+34 612 345 678" and "612-345-678" get one pseudonym.
    canonical: str = ""
    # For names: the words of the name (folded, nicknames expanded), to tell which mentions are one person.
    words: tuple[str, ...] = ()


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


def _ccc_valid(bank: str, branch: str, control: str, account: str) -> bool:
    weights = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)

    def digit(number: str) -> str:
        value = 11 - sum(int(d) * w for d, w in zip(number.zfill(10), weights, strict=True)) % 11
        return str({10: 1, 11: 0}.get(value, value))

    return digit("00" + bank + branch) + digit(account) == control


def _iban_in(match: re.Match[str]) -> tuple[int, str] | None:
    """End offset and compact form of the longest valid IBAN at the start of ``match``, if any."""
    raw = match.group(0)
    ends = [m.end() for m in re.finditer(r"[A-Z0-9]+", raw)]
    following = match.string[match.start() + len(raw) : match.start() + len(raw) + 1]
    if following.isalnum():
        ends.pop()  # the last group runs on into a word ("...1332abc"): not part of an IBAN
    for end in reversed(ends):
        compact = re.sub(r"[ -]", "", raw[:end])
        if iban_valid(compact):
            return match.start() + end, compact.upper()
    return None


def _phone_is_reference(text: str, start: int) -> bool:
    return bool(_REFERENCE_WORDS.search(text[max(0, start - 40) : start]))


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

    def add(kind: str, match: re.Match[str], canonical: str = "") -> None:
        found.append(PiiMatch(kind, match.start(), match.end(), match.group(0), canonical or match.group(0)))

    for match in _EMAIL.finditer(text):
        add("EMAIL", match, match.group(0).lower())
    for match in _IBAN.finditer(text):
        iban = _iban_in(match)
        if iban is not None:
            end, compact = iban
            found.append(PiiMatch("IBAN", match.start(), end, text[match.start() : end], compact))
    for match in _CCC.finditer(text):
        if _ccc_valid(*match.groups()):
            add("IBAN", match, "".join(match.groups()))
    for match in _NIE.finditer(text):
        if _nie_valid(*match.groups()):
            add("NIE", match, "".join(match.groups()).upper())
    for match in _DNI.finditer(text):
        number, letter = match.group(1).replace(".", ""), match.group(2)
        if _dni_valid(number, letter):
            add("DNI", match, f"{int(number):08d}{letter.upper()}")
    for match in _CIF.finditer(text):
        if _cif_valid(*match.groups()):
            add("NIF", match, "".join(match.groups()).upper())
    for match in _NSS.finditer(text):
        if _nss_valid(*match.groups()):
            add("SSN", match, "".join(match.groups()))
    for match in _US_SSN.finditer(text):
        if _us_ssn_valid(*match.groups()):
            add("SSN", match, "".join(match.groups()))
    for match in _CARD.finditer(text):
        if _phone_is_reference(text, match.start()):
            continue  # "Order 4417-2209-8831-0064": an order number that happens to pass Luhn
        if _CARD_ISSUER.match(re.sub(r"\D", "", match.group(0))) and luhn_valid(match.group(0)):
            add("CARD", match, re.sub(r"\D", "", match.group(0)))
    found.extend(_phones(text))
    for name in find_names(text, known_names=known_names):
        found.append(PiiMatch("PERSON", name.start, name.end, name.value, " ".join(name.words), name.words))
    return _without_overlaps(found)


def _phones(text: str) -> list[PiiMatch]:
    """Numbers valid in a numbering plan (Spanish and British by default region), unless the words before
    make them a reference; numbers merely possible in a plan when the words before say a phone."""
    phones: dict[tuple[int, int], PiiMatch] = {}
    if len(_DIGIT.findall(text)) < 6:
        return []  # no phone number is shorter (and most sentences have none): skip the matcher
    cued = _PHONE_CUE.search(text) or "+" in text
    leniency = phonenumbers.Leniency.POSSIBLE if cued else phonenumbers.Leniency.VALID
    for region in ("ES", "GB"):
        for number in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
            if _phone_is_reference(text, number.start):
                continue
            if leniency == phonenumbers.Leniency.POSSIBLE and not phonenumbers.is_valid_number(number.number):
                # A number the plan does not list yet: a phone when written in international form or
                # when the words before say so.
                international = number.raw_string.startswith(("+", "00", "(+"))
                before = text[max(0, number.start - 40) : number.start]
                if not international and (len(_DIGIT.findall(number.raw_string)) < 7 or _EXTENSION.search(before)):
                    continue  # "call extension 4444" is no phone number
                if not international and not _PHONE_WORDS.search(before):
                    continue
            canonical = phonenumbers.format_number(number.number, phonenumbers.PhoneNumberFormat.E164)
            span = (number.start, number.end)
            phones.setdefault(span, PiiMatch("PHONE", *span, number.raw_string, canonical))
    return list(phones.values())


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
    return pseudonymise_all([text], key=key, known_names=known_names)[0]


def pseudonymise_all(texts: Sequence[str], *, key: bytes, known_names: Iterable[str] = ()) -> list[PseudonymisedText]:
    """Pseudonymise texts that belong together (a question and its answer, a tone example) so that one
    person or number gets one pseudonym throughout: a number however it is written, and a person under
    the fullest form of the name that the texts or the directory hold ("María José" and "María José
    García-Pelayo de la Fuente" are one person; so are "javi ruiz" and "Javier Ruiz")."""
    names = list(known_names)
    found = [find_pii(text, known_names=names) for text in texts]
    people = _people(
        [m.words for matches in found for m in matches if m.kind == "PERSON"],
        directory=[name_words(name) for name in names if len(name_words(name)) > 1],
    )
    results = []
    for text, matches in zip(texts, found, strict=True):
        parts: list[str] = []
        position = 0
        for match in matches:
            value = " ".join(people[match.words]) if match.kind == "PERSON" else match.canonical or match.value
            parts.append(text[position : match.start])
            parts.append(pseudonym(match.kind, value, key=key))
            position = match.end
        parts.append(text[position:])
        results.append(PseudonymisedText("".join(parts), Counter(match.kind for match in matches)))
    return results


Words = tuple[str, ...]


def _people(mentions: list[Words], *, directory: list[Words]) -> dict[Words, Words]:
    """Each mention's person: the one fullest name (from the mentions, else the directory) whose words
    include all of the mention's; the mention itself where there is none, or more than one."""
    candidates = set(mentions) | set(directory)
    people: dict[tuple[str, ...], tuple[str, ...]] = {}
    for mention in mentions:
        wider = [c for c in candidates if set(mention) < set(c) or (set(mention) == set(c) and len(c) > len(mention))]
        widest = [c for c in wider if not any(set(c) < set(other) for other in wider)]
        if len({frozenset(c) for c in widest}) == 1:
            people[mention] = max(widest, key=lambda c: (c in mentions, len(c)))
        else:
            people[mention] = mention
    return people


class LabelledSpan(TypedDict):
    kind: str
    start: int
    end: int


class LabelledCase(TypedDict):
    """One line of a labelled PII set (``tests/governance/pii_*.jsonl``): a text, the names known to be in
    it, and the spans a detector should find."""

    text: str
    names: NotRequired[list[str]]
    spans: list[LabelledSpan]


@dataclass(frozen=True)
class PiiScore:
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int


def pii_evaluate(cases: Iterable[LabelledCase]) -> PiiScore:
    """Exact-span precision and recall of ``find_pii`` on labelled cases ({text, names, spans})."""
    tp = fp = fn = 0
    for case in cases:
        expected = {(s["kind"], s["start"], s["end"]) for s in case["spans"]}
        predicted = {(m.kind, m.start, m.end) for m in find_pii(case["text"], known_names=case.get("names", []))}
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
