"""Fit the retrieved passages into the generator's prompt budget.

Prompt length drives the time to first token of a CPU model (the whole prompt is read before the first
word), so passages are trimmed to ``GENERATOR_CONTEXT_WORDS`` words in all, shared equally: each keeps its
sentences that share the most content words with the question, in their original order. Sources shown to
the person and the citation check still use the whole passages.
"""

from __future__ import annotations

from chatbot.llm.base import Passage
from chatbot.rag.text import content_terms, split_sentences


def _trim(text: str, question_terms: set[str], budget: int) -> str:
    words = text.split()
    if len(words) <= budget:
        return text
    sentences = split_sentences(text)
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(question_terms & content_terms(sentences[i])), i))
    kept: set[int] = set()
    used = 0
    for i in ranked:
        size = len(sentences[i].split())
        if used + size > budget and kept:
            continue
        kept.add(i)
        used += size
        if used >= budget:
            break
    trimmed = " ".join(sentences[i] for i in sorted(kept))
    words = trimmed.split()
    return trimmed if len(words) <= budget else " ".join(words[:budget]) + "…"


def fit_passages(passages: tuple[Passage, ...], *, question: str, max_words: int) -> tuple[Passage, ...]:
    """The passages, each trimmed to an equal share of ``max_words`` (0: unchanged)."""
    if max_words <= 0 or not passages:
        return passages
    budget = max(20, max_words // len(passages))
    terms = content_terms(question)
    return tuple(
        Passage(n=p.n, title=p.title, location=p.location, text=_trim(p.text, terms, budget)) for p in passages
    )
