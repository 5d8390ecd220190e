"""The citation check run on every generated answer, before it is stored and rendered.

1. Every ``[n]`` must name a source that was provided with the question: markers naming anything else are
   removed (``[1, 7]`` keeps ``[1]``; ``[7]`` disappears), and lists become one marker per source.
2. Each sentence of the answer is checked against passages: the ones it cites, or, when it cites none,
   those the answer cites elsewhere (or all provided ones when the answer cites nothing). A sentence is
   *supported* when at least ``SUPPORT_MIN_SHARE`` of its content words occur in one of those passages.
   Sentences with fewer than ``MIN_JUDGED_TERMS`` content words ("Hola.", "Esto dice la política:") are
   not judged. Unsupported sentences are stored with the message (``Message.unsupported``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chatbot.llm.base import Passage
from chatbot.rag.text import content_terms, split_sentences

SUPPORT_MIN_SHARE = 0.5
MIN_JUDGED_TERMS = 3

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_MARKER_WITH_SPACE = re.compile(r"[ \t]*" + _MARKER.pattern)
_NUMBER = re.compile(r"\d+")
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


def _supported(sentence: str, passages: Sequence[Passage]) -> bool:
    terms = content_terms(_MARKER.sub(" ", sentence))
    if not terms:
        return True
    best = max((len(terms & content_terms(f"{p.title} {p.location} {p.text}")) for p in passages), default=0)
    return best / len(terms) >= SUPPORT_MIN_SHARE


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
