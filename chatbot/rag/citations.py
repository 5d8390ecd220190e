"""The citation check run on every generated answer, before it is stored and rendered.

1. Every ``[n]`` must name a source that was provided with the question: markers naming anything else are
   removed (``[1, 7]`` keeps ``[1]``; ``[7]`` disappears), and lists become one marker per source.
2. Each sentence of the answer is checked against passages: the ones it cites, or, when it cites none,
   those the answer cites elsewhere (or all provided ones when the answer cites nothing). A sentence is
   *supported* (``unsupported_reason`` returns "") when at least ``SUPPORT_MIN_SHARE`` of its content words
   occur in one of those passages **and** every number (amounts, dates, durations) and every proper noun or
   acronym it names occurs in them too: a sentence that gets the words right and the figure wrong is not
   supported. Sentences with fewer than ``MIN_JUDGED_TERMS`` content words ("Hola.", "Esto dice la
   política:") are not judged on words, but their numbers and names are still checked. Unsupported sentences
   are stored with the message (``Message.unsupported``).

The same check gates generated text before anyone reads it (``chatbot.rag.grounding``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chatbot.llm.base import Passage
from chatbot.rag.text import STOP_WORDS, content_terms, split_sentences, strip_accents

SUPPORT_MIN_SHARE = 0.5
MIN_JUDGED_TERMS = 3

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_MARKER_WITH_SPACE = re.compile(r"[ \t]*" + _MARKER.pattern)
_NUMBER = re.compile(r"\d+")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w+", re.UNICODE)
_CAPITALISED = re.compile(r"\b[A-ZÁÉÍÓÚÑÜ][\wÁÉÍÓÚÑÜáéíóúñü'-]*")
_OPENERS = set(":;.!?¿¡«\"'(-—–*•")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([.,;:!?)])")
_DOUBLE_SPACE = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True)
class CitationCheck:
    text: str  # the answer with only valid citation markers
    cited: tuple[int, ...]  # valid source numbers cited, in first-cited order
    removed: tuple[int, ...]  # numbers that named no provided source
    judged: int  # sentences long enough to judge
    unsupported: tuple[str, ...]

    @property
    def supported_share(self) -> float:
        """Share of judged sentences that are supported; 1.0 when nothing could be judged."""
        return 1.0 if not self.judged else (self.judged - len(self.unsupported)) / self.judged


def strip_citations(text: str) -> str:
    """The text with every citation marker (and the spaces before it) removed."""
    return _MARKER_WITH_SPACE.sub("", text)


def clean_citations(text: str, valid: set[int]) -> tuple[str, list[int], list[int]]:
    cited: list[int] = []
    removed: list[int] = []

    def replace(match: re.Match[str]) -> str:
        kept = []
        for number in (int(n) for n in _NUMBER.findall(match.group(1))):
            if number in valid:
                kept.append(number)
                if number not in cited:
                    cited.append(number)
            else:
                removed.append(number)
        return "".join(f"[{n}]" for n in dict.fromkeys(kept))

    cleaned = _MARKER.sub(replace, text)
    if removed:
        cleaned = _DOUBLE_SPACE.sub(" ", _SPACE_BEFORE_PUNCTUATION.sub(r"\1", cleaned))
    return cleaned, cited, removed


def _digits(text: str) -> set[str]:
    """The numbers of a text as digit strings: "1.200 EUR" and "1200" agree, "1,92" is "192"."""
    return {re.sub(r"\D", "", match) for match in _FIGURE.findall(text)}


def _names(sentence: str) -> set[str]:
    """Proper nouns and acronyms (folded): capitalised words that do not open the sentence or a clause,
    and words in capitals anywhere; function words ("El", "The") are not names."""
    names = set()
    for match in _CAPITALISED.finditer(sentence):
        word = match.group(0)
        opens = not sentence[: match.start()].strip() or sentence[: match.start()].rstrip()[-1] in _OPENERS
        if (opens and not word.isupper()) or len(word) < 2:
            continue
        folded = strip_accents(word.lower())
        if folded not in STOP_WORDS:
            names.add(folded)
    return names


def _words_of(text: str) -> set[str]:
    return set(_WORD.findall(strip_accents(text.lower())))


def unsupported_reason(sentence: str, passages: Sequence[Passage]) -> str:
    """Why ``sentence`` is not supported by any one of ``passages`` ("" when it is): ``words``, or the
    first number or name that none of them holds."""
    plain = _MARKER.sub(" ", sentence)
    texts = [f"{p.title} {p.location} {p.text}" for p in passages]
    terms = content_terms(plain)
    if len(terms) >= MIN_JUDGED_TERMS:
        best = max((len(terms & content_terms(text)) for text in texts), default=0)
        if best / len(terms) < SUPPORT_MIN_SHARE:
            return "words"
    # Every number must be among the passages' numbers, every name among their words.
    for kind, of_sentence, of_passage in (("number", _digits, _digits), ("name", _names, _words_of)):
        missing = sorted(of_sentence(plain) - set().union(*(of_passage(text) for text in texts)))
        if missing:
            return f"{kind} {missing[0]}"
    return ""


def _supported(sentence: str, passages: Sequence[Passage]) -> bool:
    return not unsupported_reason(sentence, passages)


def judged_sentences(text: str) -> list[str]:
    """The sentences of an answer long enough to judge, in order (what ``check_citations`` judges)."""
    return [s for s in split_sentences(text) if len(content_terms(_MARKER.sub(" ", s))) >= MIN_JUDGED_TERMS]


def check_citations(text: str, passages: Sequence[Passage]) -> CitationCheck:
    by_number = {passage.n: passage for passage in passages}
    cleaned, cited, removed = clean_citations(text, set(by_number))
    answer_passages = [by_number[n] for n in cited] or list(passages)
    judged = 0
    unsupported: list[str] = []
    for sentence in judged_sentences(cleaned):
        judged += 1
        own = [by_number[int(n)] for marker in _MARKER.findall(sentence) for n in _NUMBER.findall(marker)]
        if not _supported(sentence, own or answer_passages):
            unsupported.append(sentence)
    return CitationCheck(
        text=cleaned, cited=tuple(cited), removed=tuple(removed), judged=judged, unsupported=tuple(unsupported)
    )
