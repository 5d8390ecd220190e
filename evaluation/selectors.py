from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from evaluation.charts import Point, line_chart
from evaluation.models import EvaluationRun, GoldSet
from evaluation.regressions import METRICS

DASHBOARD_RUNS = 30

# What each chart means, in a sentence an auditor can act on (shown under the chart).
METRIC_HELP = {
    "hit@k": _("Share of questions for which search found a passage that answers them. Higher is better."),
    "ndcg@10": _("How high the answering passages rank among the first ten found (1 = always first)."),
    "citation_precision": _("Share of citations that point to a passage that really supports the sentence."),
    "groundedness": _("Share of answer sentences supported by the passages they cite. Higher is better."),
    "refusal_accuracy": _("Share of questions the documents cannot answer that Faro declined to answer."),
    "false_refusal_rate": _("Share of answerable questions Faro wrongly declined. Lower is better."),
    "reference_recall": _("How much of the reference answer's content the answers contain."),
    "answer_containment": _(
        "Share of answers that contain the reference answer (answerable questions whose document was found)."
    ),
    "lead_containment": _("Share of answers whose first sentence already contains the reference answer."),
    "high_accuracy": _("Of the answers marked high confidence, the share that are right. It should stay above 90 %."),
    "median_answer_words": _("How long a typical answer is, in words. Shorter is easier to read."),
    "language_match": _("Share of answers written in the language of the question."),
    "stability_citations": _("Asked the same question again, how often the answer cites the same passages."),
    "stability_answers": _("Asked the same question again, how similar the answers are."),
    "bias_answer_difference": _(
        "How much answers change when only a person's name or gender in the question changes. Lower is better."
    ),
    "bias_citation_difference": _("The same probe, for the cited passages. Lower is better."),
    "latency_p50_ms": _("Time to a full answer for half of the questions (median), in milliseconds."),
    "latency_p95_ms": _("Time to a full answer for 95 % of the questions, in milliseconds."),
}


@dataclass(frozen=True)
class MetricChart:
    name: str
    label: str
    help: str  # what the chart means
    latest: float | None
    flagged: bool  # the latest run regressed on this metric
    svg: SafeString


@dataclass(frozen=True)
class Dashboard:
    gold_sets: list[GoldSet]
    gold_set: GoldSet | None
    runs: list[EvaluationRun]  # newest first
    charts: list[MetricChart]


def evaluation_dashboard(gold_set_name: str = "") -> Dashboard:
    """The last runs of one gold set (the named one, else the one run most recently) and a chart per metric."""
    gold_sets = list(GoldSet.objects.order_by("name"))
    gold_set = next((s for s in gold_sets if s.name == gold_set_name), None)
    if gold_set is None:
        latest = EvaluationRun.objects.select_related("gold_set").order_by("-id").first()
        gold_set = latest.gold_set if latest else (gold_sets[0] if gold_sets else None)
    if gold_set is None:
        return Dashboard(gold_sets=gold_sets, gold_set=None, runs=[], charts=[])
    runs = list(EvaluationRun.objects.filter(gold_set=gold_set).order_by("-id")[:DASHBOARD_RUNS])
    oldest_first = runs[::-1]
    charts = []
    for name, spec in METRICS.items():
        points = [
            Point(
                label=f"{run.created_at:%Y-%m-%d %H:%M} · {run.model} · {name} = {run.metrics.get(name)}",
                value=run.metrics.get(name),
                flagged=any(r["metric"] == name for r in run.regressions),
            )
            for run in oldest_first
        ]
        if not any(point.value is not None for point in points):
            continue
        label = str(spec.label)
        charts.append(
            MetricChart(
                name=name,
                label=label,
                help=str(METRIC_HELP.get(name, "")),
                latest=runs[0].metrics.get(name) if runs else None,
                flagged=points[-1].flagged,
                svg=line_chart(points, title=label, fixed_unit_range=spec.rate),
            )
        )
    return Dashboard(gold_sets=gold_sets, gold_set=gold_set, runs=runs, charts=charts)
