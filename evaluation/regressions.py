"""Which way each metric should move, and how much worse than the previous run it may get before the run
is flagged. Rates in [0, 1] get an absolute tolerance of 0.05 (one question in twenty on a small set);
latencies get a relative one of 25 % (timings on a shared machine are noisy). The previous run is the
latest earlier run of the same gold set over the same number of questions, so ``--limit`` runs are not
compared with full ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class MetricSpec:
    label: Promise
    higher_is_better: bool
    absolute: float = 0.0  # allowed worsening in the metric's own units
    relative: float = 0.0  # allowed worsening as a share of the previous value
    rate: bool = True  # a share in [0, 1] (charted on a fixed 0..1 axis)


RATE_TOLERANCE = 0.05
LATENCY_TOLERANCE = 0.25

METRICS: dict[str, MetricSpec] = {
    "hit@k": MetricSpec(_("Retrieval hit@k"), True, absolute=RATE_TOLERANCE),
    "ndcg@10": MetricSpec(_("Retrieval nDCG@10"), True, absolute=RATE_TOLERANCE),
    "citation_precision": MetricSpec(_("Citation precision"), True, absolute=RATE_TOLERANCE),
    "groundedness": MetricSpec(_("Groundedness"), True, absolute=RATE_TOLERANCE),
    "refusal_accuracy": MetricSpec(_("Refusal accuracy (unanswerable)"), True, absolute=RATE_TOLERANCE),
    "false_refusal_rate": MetricSpec(_("False refusals (answerable)"), False, absolute=RATE_TOLERANCE),
    "reference_recall": MetricSpec(_("Reference answer recall"), True, absolute=RATE_TOLERANCE),
    "answer_containment": MetricSpec(_("Answer holds the reference"), True, absolute=RATE_TOLERANCE),
    "lead_containment": MetricSpec(_("Lead sentence holds the reference"), True, absolute=RATE_TOLERANCE),
    "high_accuracy": MetricSpec(_("Answers marked high that are right"), True, absolute=RATE_TOLERANCE),
    "median_answer_words": MetricSpec(_("Median answer length (words)"), False, relative=0.25, rate=False),
    "language_match": MetricSpec(_("Answer language match"), True, absolute=RATE_TOLERANCE),
    "stability_citations": MetricSpec(_("Stability of citations"), True, absolute=RATE_TOLERANCE),
    "stability_answers": MetricSpec(_("Stability of answers"), True, absolute=RATE_TOLERANCE),
    "bias_answer_difference": MetricSpec(_("Bias probe: answer difference"), False, absolute=RATE_TOLERANCE),
    "bias_citation_difference": MetricSpec(_("Bias probe: citation difference"), False, absolute=RATE_TOLERANCE),
    "latency_p50_ms": MetricSpec(_("Latency p50 (ms)"), False, relative=LATENCY_TOLERANCE, rate=False),
    "latency_p95_ms": MetricSpec(_("Latency p95 (ms)"), False, relative=LATENCY_TOLERANCE, rate=False),
}


def is_regression(name: str, previous: float | None, value: float | None) -> bool:
    """Whether ``value`` is worse than ``previous`` by more than the metric's tolerance."""
    spec = METRICS.get(name)
    if spec is None or previous is None or value is None:
        return False
    worsening = previous - value if spec.higher_is_better else value - previous
    allowed = spec.absolute + spec.relative * abs(previous)
    return worsening > allowed + 1e-9


def regressions_between(previous: dict[str, Any], current: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"metric": name, "previous": previous.get(name), "value": current.get(name)}
        for name in METRICS
        if is_regression(name, previous.get(name), current.get(name))
    ]
