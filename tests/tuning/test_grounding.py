"""The grounding set and its measures (the model-free part; the answers come from real runs elsewhere)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatbot.rag.prompts import ANSWER_LANGUAGES, refusal_text
from tuning.grounding import (
    GROUNDING_SET,
    GroundingScores,
    grounding_messages,
    grounding_regressions,
    grounding_scores,
    is_refusal,
)

SOURCES = Path(__file__).resolve().parents[2] / "demo" / "sources"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_passage_is_quoted_from_the_demo_corpus():
    corpus = _flat(" ".join(path.read_text(encoding="utf-8") for path in SOURCES.glob("*.md")))
    for item in GROUNDING_SET:
        for passage in item.passages:
            assert _flat(passage.text) in corpus, passage.title


def test_the_set_mixes_answerable_and_out_of_scope_questions_in_both_languages_from_the_start():
    first = GROUNDING_SET[:2]
    assert {bool(item.answer_in) for item in first} == {True, False}
    assert {item.language for item in GROUNDING_SET[:4]} == {"es", "en"}
    for item in GROUNDING_SET:
        assert item.answer_in in {0, *(p.n for p in item.passages)}


def test_questions_are_asked_through_the_answer_flows_prompt():
    messages = grounding_messages(GROUNDING_SET[4])
    assert messages[0]["role"] == "system" and "[n]" in messages[0]["content"]
    assert "[2] Política de vacaciones y permisos" in messages[-1]["content"]


@pytest.mark.parametrize(
    "answer",
    [
        "No he encontrado esa información en la documentación.",
        "Lo siento, no aparece en las fuentes.",
        "I did not find this in the documentation.",
        "The sources don't say; I couldn't find it.",
    ],
)
def test_refusals_are_recognised(answer):
    assert is_refusal(answer)


@pytest.mark.parametrize("language", ANSWER_LANGUAGES)
def test_the_refusals_own_words_are_recognised(language):
    # The system prompt asks for them; a model that follows it must count as refusing.
    assert is_refusal(refusal_text(language, []))


@pytest.mark.parametrize("answer", ["Tienes 23 días laborables al año [2].", "The probation period is 6 months [1]."])
def test_answers_are_not_refusals(answer):
    assert not is_refusal(answer)


def test_scores_of_a_grounded_and_an_ungrounded_set_of_answers():
    items = GROUNDING_SET[:4]
    grounded = [
        "Sí, hasta 20 días laborables al año dentro de la Unión Europea [1].",
        "No he encontrado esto en la documentación.",
        "The probation period is 6 months for technical staff and 2 months for other roles [1].",
        "I did not find this in the documentation.",
    ]
    assert grounding_scores(items, grounded) == GroundingScores(1.0, 1.0, 1.0)
    ungrounded = [
        "Sí, puedes teletrabajar desde otro país.",  # cites nothing
        "Argentina ganó el mundial de 1986.",  # answers from memory
        "El periodo de prueba es de seis meses.",  # no citation, and in Spanish
        "Leo Tolstoy wrote War and Peace.",
    ]
    assert grounding_scores(items, ungrounded) == GroundingScores(0.0, 0.5, 0.75)
    base, adapter = grounding_scores(items, grounded), grounding_scores(items, ungrounded)
    assert grounding_regressions(base=base, adapter=adapter) == ["citation_rate", "refusal_correct", "language_match"]
    assert grounding_regressions(base=adapter, adapter=base) == []
    assert grounding_regressions(base=base, adapter=base) == []  # equal is not worse
