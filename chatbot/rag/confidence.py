"""How sure an answer is, shown with every answer and sent in the ``done`` event.

The rule, from the evidence of the retrieved passages (``chatbot.rag.evidence``, thresholds in settings)
and from the citation check of the answer (``chatbot.rag.citations``):

- ``low``: Faro refused (evidence below ``ANSWER_MIN_EVIDENCE``), or fewer than half of the answer's
  judged sentences are supported by the passages they cite;
- ``high``: evidence at least ``ANSWER_HIGH_EVIDENCE`` and at least 80 % of the judged sentences supported;
- ``medium``: everything in between.

An answer that fell back to quoted passages is judged the same way: its sentences are verbatim quotes, so
its confidence follows the evidence.
"""

from __future__ import annotations

from typing import Literal

Confidence = Literal["high", "medium", "low"]

HIGH_SUPPORT_SHARE = 0.8
MEDIUM_SUPPORT_SHARE = 0.5


def answer_confidence(
    *, refused: bool, evidence: float, supported_share: float, min_evidence: float, high_evidence: float
) -> Confidence:
    if refused or evidence < min_evidence or supported_share < MEDIUM_SUPPORT_SHARE:
        return "low"
    if evidence >= high_evidence and supported_share >= HIGH_SUPPORT_SHARE:
        return "high"
    return "medium"
