"""How sure an answer is, shown with every answer and sent in the ``done`` event.

The rule, from the evidence of the retrieved passages (``chatbot.rag.evidence``), how well the best
sentence answers the question (``chatbot.rag.sentences``), and the citation check of the answer
(``chatbot.rag.citations``); thresholds per embedding model (``chatbot.rag.thresholds``), calibrated by
``bench/answer_calibration.py`` so that ``high`` answers are right at least 90 % of the time on the gold sets:

- ``low``: Faro refused, the person stopped the answer (a fragment is never sure), or fewer than half of
  the answer's judged sentences are supported by the passages they cite;
- ``high``: the best sentence scores at least ``high_answerability``, the passages' evidence is at least
  ``high_evidence`` and at least 80 % of the judged sentences are supported;
- ``medium``: everything in between.
"""

from __future__ import annotations

from typing import Literal

from chatbot.rag.thresholds import answer_thresholds

Confidence = Literal["high", "medium", "low"]

HIGH_SUPPORT_SHARE = 0.8
MEDIUM_SUPPORT_SHARE = 0.5


def answer_confidence(
    *, refused: bool, stopped: bool, evidence: float, answerability: float, supported_share: float
) -> Confidence:
    if refused or stopped or supported_share < MEDIUM_SUPPORT_SHARE:
        return "low"
    thresholds = answer_thresholds()
    if (
        answerability >= thresholds.high_answerability
        and evidence >= thresholds.high_evidence
        and supported_share >= HIGH_SUPPORT_SHARE
    ):
        return "high"
    return "medium"
