"""Regression flags: direction and tolerance per metric, and the SVG chart that shows them."""

from __future__ import annotations

from evaluation.charts import Point, line_chart
from evaluation.regressions import METRICS, is_regression, regressions_between


def test_rates_may_worsen_by_the_tolerance_only():
    assert not is_regression("groundedness", 0.90, 0.86)
    assert is_regression("groundedness", 0.90, 0.84)
    assert not is_regression("groundedness", 0.50, 0.95)  # better is never a regression


def test_lower_is_better_metrics_regress_upwards():
    assert is_regression("false_refusal_rate", 0.10, 0.20)
    assert not is_regression("false_refusal_rate", 0.20, 0.10)
    assert is_regression("bias_answer_difference", 0.0, 0.2)


def test_latency_has_a_relative_tolerance():
    assert not is_regression("latency_p95_ms", 1000.0, 1240.0)
    assert is_regression("latency_p95_ms", 1000.0, 1260.0)


def test_missing_values_and_unknown_metrics_never_regress():
    assert not is_regression("groundedness", None, 0.1)
    assert not is_regression("groundedness", 0.9, None)
    assert not is_regression("not-a-metric", 1.0, 0.0)


def test_regressions_between_lists_only_the_worse_metrics():
    previous = {"hit@k": 1.0, "ndcg@10": 0.8, "latency_p50_ms": 100.0}
    current = {"hit@k": 0.5, "ndcg@10": 0.82, "latency_p50_ms": 400.0}
    assert regressions_between(previous, current) == [
        {"metric": "hit@k", "previous": 1.0, "value": 0.5},
        {"metric": "latency_p50_ms", "previous": 100.0, "value": 400.0},
    ]
    assert set(METRICS) >= {"hit@k", "ndcg@10", "citation_precision", "groundedness", "refusal_accuracy"}


def test_the_chart_is_inline_svg_without_script_or_style_and_marks_regressions():
    svg = line_chart(
        [Point("run 1", 0.9), Point("run 2 <b>", None), Point("run 3", 0.5, flagged=True)],
        title="Groundedness",
        fixed_unit_range=True,
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<script" not in svg and "style=" not in svg
    assert svg.count("<circle") == 2 and svg.count('class="point regression"') == 1
    assert "<polyline" in svg
    assert "run 2 <b>" not in svg  # labels are escaped (a missing value draws no point)
