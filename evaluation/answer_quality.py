"""What a person reads, measured: does the answer (and its lead sentence) hold the reference answer?

- ``contains_span``: the reference span, accent- and case-folded with punctuation and spacing normalised,
  occurs in the text;
- ``lead_sentence``: the first sentence of the answer as shown, citations stripped, where an answer's lead
  is what a person reads first (an introduction ending in a colon belongs to the sentence it introduces);
- ``is_evidence``: the lead sentence is one of a question's evidence sentences (yes/no questions, whose
  reference answer "yes" or "no" is never a span of the text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chatbot.rag.citations import strip_citations
from chatbot.rag.text import split_sentences
from ingestion.search.analysis import fold

_NON_WORD = re.compile(r"[^\w%€$]+", re.UNICODE)
_YES_NO = {"yes", "no", "si", "sí"}


def folded(text: str) -> str:
    """Folded as search folds it (lower case, no accents), punctuation as single spaces: "23 Días," and
    "23 dias" agree."""
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def contains_span(text: str, span: str) -> bool:
    needle = folded(span)
    return bool(needle) and f" {needle} " in f" {folded(text)} "


def lead_sentence(answer: str) -> str:
    sentences = split_sentences(strip_citations(answer).replace("> ", ""))
    return sentences[0] if sentences else ""


def is_yes_no(spans: Sequence[str]) -> bool:
    return bool(spans) and all(folded(span) in _YES_NO for span in spans)


def is_evidence(sentence: str, evidences: Sequence[str]) -> bool:
    """The sentence is (or holds, or is held by) one of the evidence sentences of at least three words."""
    lead = folded(sentence)
    if not lead:
        return False
    return any(len(e.split()) >= 3 and (folded(e) in lead or lead in folded(e)) for e in evidences)
