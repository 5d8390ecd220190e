"""The documented confidence rule (chatbot/rag/confidence.py)."""

from __future__ import annotations

import pytest

from chatbot.rag.confidence import answer_confidence


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.ANSWER_HIGH_EVIDENCE = 0.5
    settings.ANSWER_HIGH_ANSWERABILITY = 0.6


@pytest.mark.parametrize(
    ("refused", "stopped", "evidence", "answerability", "supported", "expected"),
    [
        (True, False, 0.9, 0.9, 1.0, "low"),  # a refusal is never confident
        (False, True, 0.9, 0.9, 1.0, "low"),  # nor is a fragment the person stopped
        (False, False, 0.9, 0.9, 0.4, "low"),  # most sentences unsupported
        (False, False, 0.9, 0.9, 0.8, "high"),
        (False, False, 0.5, 0.6, 1.0, "high"),
        (False, False, 0.49, 0.9, 1.0, "medium"),  # middling passage evidence
        (False, False, 0.9, 0.59, 1.0, "medium"),  # no sentence answers it squarely
        (False, False, 0.9, 0.9, 0.79, "medium"),  # some unsupported sentences
        (False, False, 0.3, 0.3, 0.5, "medium"),
    ],
)
def test_confidence_rule(refused, stopped, evidence, answerability, supported, expected):
    assert (
        answer_confidence(
            refused=refused,
            stopped=stopped,
            evidence=evidence,
            answerability=answerability,
            supported_share=supported,
        )
        == expected
    )
