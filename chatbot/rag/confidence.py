"""How sure an answer is, shown with every answer and sent in the ``done`` event.

The rule, from the evidence of the retrieved passages (``chatbot.rag.evidence``), how well the best
sentence answers the question (``chatbot.rag.sentences``), and the citation check of the answer
(``chatbot.rag.citations``); thresholds in settings, calibrated by ``bench/answer_calibration.py`` so that
``high`` answers are right at least 90 % of the time on the gold sets:

- ``low``: Faro refused, the person stopped the answer (a fragment is never sure), or fewer than half of
  the answer's judged sentences are supported by the passages they cite;
- ``high``: the best sentence scores at least ``ANSWER_HIGH_ANSWERABILITY``, the passages' evidence is at
  least ``ANSWER_HIGH_EVIDENCE`` and at least 80 % of the judged sentences are supported;
- ``medium``: everything in between.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings

Confidence = Literal["high", "medium", "low"]

HIGH_SUPPORT_SHARE = 0.8
MEDIUM_SUPPORT_SHARE = 0.5


def answer_confidence(
    *, refused: bool, stopped: bool, evidence: float, answerability: float, supported_share: float
) -> Confidence:
    if refused or stopped or supported_share < MEDIUM_SUPPORT_SHARE:
        return "low"
    if (
        answerability >= settings.ANSWER_HIGH_ANSWERABILITY
        and evidence >= settings.ANSWER_HIGH_EVIDENCE
        and supported_share >= HIGH_SUPPORT_SHARE
    ):
        return "high"
    return "medium"
