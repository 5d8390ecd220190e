"""Ranking metrics against values computed by hand."""

from __future__ import annotations

import math

import pytest

from evaluation.metrics import (
    citation_precision,
    first_relevant_rank,
    hit_at,
    jaccard,
    mean,
    mean_pairwise_agreement,
    mrr_at,
    ndcg_at,
    percentile,
    recall_at,
    supported_share,
)

JUDGED = {"d1": 1, "d3": 1}


def test_ndcg_of_a_perfect_ranking_is_one():
    assert ndcg_at(["d1", "d3", "d2"], JUDGED, 10) == pytest.approx(1.0)


def test_ndcg_with_relevant_documents_at_ranks_two_and_four():
    # DCG = 1/log2(3) + 1/log2(5); ideal = 1/log2(2) + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at(["x", "d1", "y", "d3"], JUDGED, 10) == pytest.approx(expected)
    assert expected == pytest.approx(0.6509, abs=1e-4)


def test_ndcg_cuts_off_at_k_and_uses_graded_gains():
    assert ndcg_at(["x", "d1"], JUDGED, 1) == 0.0
    graded = {"a": 2, "b": 1}
    # ranking b, a: DCG = 1 + 2/log2(3); ideal a, b: 2 + 1/log2(3)
    assert ndcg_at(["b", "a"], graded, 10) == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_recall_and_mrr():
    assert recall_at(["x", "d1", "y"], JUDGED, 10) == 0.5
    assert recall_at(["x", "d1", "d3"], JUDGED, 2) == 0.5
    assert mrr_at(["x", "y", "d3"], JUDGED, 10) == pytest.approx(1 / 3)
    assert mrr_at(["x", "y", "d3"], JUDGED, 2) == 0.0
    assert recall_at(["x"], {"x": 0}, 10) == 0.0
    assert first_relevant_rank(["x", "y", "d3"], JUDGED) == 3
    assert first_relevant_rank(["x", "y"], JUDGED) is None


def test_percentile_interpolates_like_numpy():
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.5) == 25.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.95) == pytest.approx(4.8)
    assert percentile([], 0.5) == 0.0


def test_hit_at_k_looks_only_at_the_first_k():
    assert hit_at(["a", "b", "c"], {"c"}, 3) == 1.0
    assert hit_at(["a", "b", "c"], {"c"}, 2) == 0.0
    assert hit_at([], {"c"}, 5) == 0.0


def test_jaccard_and_pairwise_agreement():
    assert jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)
    assert jaccard(set(), set()) == 1.0
    assert mean_pairwise_agreement([{"a"}, {"a"}, {"a"}]) == 1.0
    # pairs: (ab, ab) = 1, (ab, b) = 1/2, (ab, b) = 1/2 -> 2/3
    assert mean_pairwise_agreement([{"a", "b"}, {"a", "b"}, {"b"}]) == pytest.approx(2 / 3)
    assert mean_pairwise_agreement([{"a"}]) == 1.0


def test_citation_precision_and_supported_share():
    assert citation_precision(["a", "x"], {"a"}) == 0.5
    assert citation_precision([], {"a"}) is None
    assert supported_share(4, 1) == 0.75
    assert supported_share(0, 0) is None


def test_mean_skips_missing_values():
    assert mean([1.0, None, 0.0]) == 0.5
    assert mean([None]) is None
    assert mean([1 / 3]) == 0.3333
