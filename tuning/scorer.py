"""Tone adherence: the measurable rules of the communication style guide (COM-GUI-002), as checks.

Each rule is one named check that passes or fails; the score is the fraction that pass, so a base model
and an adapter can be compared on the same questions. Rules that need judgement (active voice, "what,
why, what to do, deadline" order) are left out: only what a program can check reliably is scored.

Rules (section of the guide):
- ``greeting`` (3): starts with "Hola" (Spanish) or "Hi" (English).
- ``no_formal_greeting`` (3): no "Estimado/a", "Estimados", "Dear", "To whom it may concern".
- ``sign_off`` (3): ends with "Un saludo," / "el equipo de Personas" or "Best," / "the People team".
- ``informal_address`` (4, Spanish only): never "usted" or "ustedes".
- ``exclamations`` (4): at most one exclamation mark.
- ``no_emoji`` (4).
- ``sentence_length`` (5): no sentence over 25 words (greeting and sign-off lines excluded).
- ``answer_length`` (5): at most 150 words.
- ``no_banned_phrases`` (6).
- ``no_numeric_dates`` (7): no "15/03/26"-style dates.
- ``descriptive_links`` (7): never "click here" or "pincha aquí".
- ``has_body``: at least three words between greeting and sign-off. Not a rule of the guide, but without
  it an empty "Hola: / Un saludo," passes everything else (a first demo adapter learnt exactly that).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_SENTENCE_WORDS = 25
MAX_ANSWER_WORDS = 150

BANNED_PHRASES = (
    "por la presente",
    "sin otro particular",
    "a la mayor brevedad posible",
    "como ya sabéis",
    "como todos sabéis",
    "rogamos",
    "se ruega",
    "disculpen las molestias",
    "dear all",
    "please be advised that",
    "asap",
    "kindly",
)
_GREETING = {"es": re.compile(r"^\s*hola\b", re.IGNORECASE), "en": re.compile(r"^\s*hi\b", re.IGNORECASE)}
_SIGN_OFF = {
    "es": re.compile(r"un saludo,\s*\n\s*el equipo de personas\.?\s*$", re.IGNORECASE),
    "en": re.compile(r"best,\s*\n\s*the people team\.?\s*$", re.IGNORECASE),
}
_FORMAL_GREETING = re.compile(r"\b(estimad[oa]s?(/a)?|dear|to whom it may concern)\b", re.IGNORECASE)
_USTED = re.compile(r"\bustede?s?\b", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
_VAGUE_LINK = re.compile(r"\b(click here|pincha aquí|haz clic aquí)\b", re.IGNORECASE)
_EMOJI = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff]")
_WORD = re.compile(r"[\wáéíóúüñÁÉÍÓÚÜÑ@.<>-]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_SPANISH_HINTS = re.compile(r"\b(el|la|los|las|de|que|tu|tus|en|para|hola|puedes|saludo|equipo)\b", re.IGNORECASE)
_ENGLISH_HINTS = re.compile(r"\b(the|you|your|of|to|and|for|hi|can|team|best)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ToneScore:
    language: str
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(self.checks.values()) / len(self.checks) if self.checks else 0.0

    @property
    def failed(self) -> list[str]:
        return [name for name, passed in self.checks.items() if not passed]


def guess_language(text: str) -> str:
    """ "es" or "en", by counting common function words (enough to pick the greeting and sign-off rules)."""
    return "en" if len(_ENGLISH_HINTS.findall(text)) > len(_SPANISH_HINTS.findall(text)) else "es"


def _body(text: str, language: str) -> str:
    """The text without its greeting line and sign-off, whose short lines are not sentences to measure."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if lines and _GREETING[language].match(lines[0]) and len(lines[0].split()) <= 4:
        lines = lines[1:]
    body = "\n".join(lines)
    return _SIGN_OFF[language].sub("", body).strip()


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def tone_score(text: str, *, language: str | None = None) -> ToneScore:
    """Score one answer against the style guide's measurable rules."""
    language = language or guess_language(text)
    stripped = text.strip()
    lowered = stripped.lower()
    checks = {
        "greeting": bool(_GREETING[language].match(stripped)),
        "no_formal_greeting": not _FORMAL_GREETING.search(stripped),
        "sign_off": bool(_SIGN_OFF[language].search(stripped)),
        "exclamations": stripped.count("!") <= 1,
        "no_emoji": not _EMOJI.search(stripped),
        "sentence_length": all(len(words(s)) <= MAX_SENTENCE_WORDS for s in sentences(_body(stripped, language))),
        "answer_length": len(words(stripped)) <= MAX_ANSWER_WORDS,
        "no_banned_phrases": not any(re.search(rf"\b{re.escape(p)}\b", lowered) for p in BANNED_PHRASES),
        "no_numeric_dates": not _NUMERIC_DATE.search(stripped),
        "descriptive_links": not _VAGUE_LINK.search(stripped),
        "has_body": len(words(_body(stripped, language))) >= 3,
    }
    if language == "es":
        checks["informal_address"] = not _USTED.search(stripped)
    return ToneScore(language=language, checks=checks)


def mean_tone_score(texts: Iterable[str]) -> float:
    scores = [tone_score(text).score for text in texts]
    return sum(scores) / len(scores) if scores else 0.0
