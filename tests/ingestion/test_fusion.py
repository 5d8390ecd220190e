import pytest

from ingestion.search.fusion import RRF_K, reciprocal_rank_fusion


def test_item_ranked_well_in_both_lists_wins():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]])
    assert [key for key, _ in fused][:2] in (["a", "b"], ["b", "a"])
    assert dict(fused)["a"] == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 2))
    assert dict(fused)["d"] < dict(fused)["c"] or dict(fused)["d"] == dict(fused)["c"]


def test_weights_scale_each_list():
    fused = dict(reciprocal_rank_fusion([["a"], ["b"]], weights=[2.0, 1.0]))
    assert fused["a"] == pytest.approx(2 * fused["b"])


def test_empty_lists_give_nothing_and_weights_must_match():
    assert reciprocal_rank_fusion([[], []]) == []
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])
