"""Passages are trimmed to the prompt budget, keeping the sentences that bear on the question."""

from __future__ import annotations

from chatbot.llm import Passage
from chatbot.rag.context import fit_passages

FILLER = " ".join(f"Frase de relleno número {n} sobre otro asunto del manual." for n in range(30))
LONG = Passage(
    1, "Vacaciones", "3", f"{FILLER} Toda persona empleada disfruta de 23 días laborables de vacaciones. {FILLER}"
)


def test_the_sentences_sharing_the_question_words_are_kept_within_the_budget():
    [fitted] = fit_passages((LONG,), question="¿Cuántos días de vacaciones tengo?", max_words=40)
    assert "23 días laborables de vacaciones" in fitted.text
    assert len(fitted.text.split()) <= 40
    assert (fitted.n, fitted.title, fitted.location) == (1, "Vacaciones", "3")


def test_short_passages_and_a_zero_budget_are_left_alone():
    short = Passage(2, "T", "", "Una frase corta.")
    assert fit_passages((short,), question="x", max_words=300) == (short,)
    assert fit_passages((LONG,), question="x", max_words=0) == (LONG,)


def test_the_budget_is_shared_between_passages():
    fitted = fit_passages((LONG, LONG), question="vacaciones", max_words=60)
    assert all(len(p.text.split()) <= 30 for p in fitted)
