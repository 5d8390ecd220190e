"""The documented confidence rule (chatbot/rag/confidence.py)."""

from __future__ import annotations

import pytest

from chatbot.rag.confidence import answer_confidence

LIMITS = {"min_evidence": 0.3, "high_evidence": 0.5}


@pytest.mark.parametrize(
    ("refused", "evidence", "supported", "expected"),
    [
        (True, 0.9, 1.0, "low"),  # a refusal is never confident
        (False, 0.2, 1.0, "low"),  # weak evidence
        (False, 0.9, 0.4, "low"),  # most sentences unsupported
        (False, 0.9, 0.8, "high"),
        (False, 0.5, 1.0, "high"),
        (False, 0.49, 1.0, "medium"),  # good support, middling evidence
        (False, 0.9, 0.79, "medium"),  # strong evidence, some unsupported sentences
        (False, 0.3, 0.5, "medium"),
    ],
)
def test_confidence_rule(refused, evidence, supported, expected):
    assert answer_confidence(refused=refused, evidence=evidence, supported_share=supported, **LIMITS) == expected
