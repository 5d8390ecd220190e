from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString

from evaluation.charts import Point, line_chart
from evaluation.models import EvaluationRun, GoldSet
from evaluation.regressions import METRICS

DASHBOARD_RUNS = 30


@dataclass(frozen=True)
class MetricChart:
    name: str
    label: str
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
                latest=runs[0].metrics.get(name) if runs else None,
                flagged=points[-1].flagged,
                svg=line_chart(points, title=label, fixed_unit_range=spec.rate),
            )
        )
    return Dashboard(gold_sets=gold_sets, gold_set=gold_set, runs=runs, charts=charts)
