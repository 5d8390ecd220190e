"""Rank fusion shared by every backend."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ingestion.search.analysis import analysis_for, query_terms
from ingestion.search.base import SearchMode

Key = TypeVar("Key", bound=Hashable)

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Key]], *, weights: Sequence[float] | None = None, k: int = RRF_K
) -> list[tuple[Key, float]]:
    """Fuse ranked lists: score(d) = sum_i w_i / (k + rank_i(d)), ranks from 1. Ties keep first-seen order."""
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


@dataclass(frozen=True)
class Candidates(Generic[Key]):
    """What a backend hands to fusion: each list best first with its raw score, BM25 (> 0) and cosine
    similarity, plus the exact cosine of any other candidate where the backend knows it."""

    lexical: Mapping[Key, float]
    semantic: Mapping[Key, float]
    cosine: Mapping[Key, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FusionWeights:
    lexical: float = 0.5
    semantic: float = 0.5


# How much fusion trusts vectors (BM25 gets the rest), measured (docs/retrieval.md):
# - z-scored lists with equal weights matched or beat RRF (SciFact 0.720 vs 0.713, ConditionalQA 0.877 both);
# - verbose questions (a scenario, then the question) dilute BM25's term weighting while a sentence encoder
#   reads them whole: the vector weight grows from 0.4 for a short question (<= 10 content words) to 0.6
#   for a long one (>= 20), which gained on both benchmarks (0.726, 0.882) over any fixed weight;
# - when the embedding model does not know the question's language: with vectors degraded until they score
#   well below BM25 (as an English-only model does on Spanish), 0.5 falls below BM25 alone while any weight
#   up to 0.3 stays at or above it; 0.2 keeps vectors as a tie-breaker.
SEMANTIC_WEIGHT_SHORT = 0.4
SEMANTIC_WEIGHT_LONG = 0.6
SHORT_QUERY_TERMS = 10
LONG_QUERY_TERMS = 20
SEMANTIC_WEIGHT_UNCOVERED = 0.2
# Each list is standardised with the mean and spread of its top this-many scores: a fixed depth, so a
# candidate's fused score does not depend on how many hits were asked for.
STATISTICS_DEPTH = 50


def fusion_weights(*, query: str, query_language: str, embedding_languages: frozenset[str] | None) -> FusionWeights:
    """Weights for one question: by whether the embedding model understands its language
    (``embedding_languages`` None: any language) and by its length in content words."""
    if embedding_languages is not None and query_language not in embedding_languages:
        semantic = SEMANTIC_WEIGHT_UNCOVERED
    else:
        terms = len(query_terms(query, query_language=query_language, analysis=analysis_for(query_language)))
        share = min(1.0, max(0.0, (terms - SHORT_QUERY_TERMS) / (LONG_QUERY_TERMS - SHORT_QUERY_TERMS)))
        semantic = SEMANTIC_WEIGHT_SHORT + share * (SEMANTIC_WEIGHT_LONG - SEMANTIC_WEIGHT_SHORT)
    return FusionWeights(lexical=1.0 - semantic, semantic=semantic)


def _standardiser(scores: Mapping[Key, float], depth: int) -> tuple[float, float]:
    top = sorted(scores.values(), reverse=True)[:depth]
    if not top:
        return 0.0, 1.0
    mean = sum(top) / len(top)
    spread = (sum((value - mean) ** 2 for value in top) / len(top)) ** 0.5
    return mean, spread if spread > 1e-9 else 1.0


def fuse(
    candidates: Candidates[Key],
    *,
    weights: FusionWeights = FusionWeights(),
    mode: SearchMode = "hybrid",
    statistics_depth: int = STATISTICS_DEPTH,
) -> list[tuple[Key, float]]:
    """One ranked list, best first. ``bm25`` and ``dense`` return their list as it is; ``hybrid`` adds the
    two scores after standardising each list (z-scores over its top ``statistics_depth``), weighted.

    Z-scores, unlike ranks (RRF), keep how far a hit stands out: a rare exact term that puts one chunk far
    ahead in BM25 outweighs a flat vector list, and the other way round. A candidate missing from the BM25
    list gets that list's lowest score (it scored at most that); one missing from the vector list gets its
    exact cosine when the backend knows it, else that list's lowest. Ties go to the higher cosine, then to
    BM25 order.
    """
    if mode == "bm25":
        return sorted(candidates.lexical.items(), key=lambda item: item[1], reverse=True)
    if mode == "dense":
        return sorted(candidates.semantic.items(), key=lambda item: item[1], reverse=True)
    lexical, semantic, cosine = candidates.lexical, candidates.semantic, candidates.cosine
    lexical_mean, lexical_spread = _standardiser(lexical, statistics_depth)
    semantic_mean, semantic_spread = _standardiser(semantic, statistics_depth)
    lexical_floor = min(lexical.values(), default=0.0)
    semantic_floor = min(semantic.values(), default=0.0)
    fused: dict[Key, tuple[float, float]] = {}
    for key in [*lexical, *semantic]:
        if key in fused:
            continue
        similarity = semantic.get(key, cosine.get(key, semantic_floor))
        score = 0.0
        if lexical:
            score += weights.lexical * (lexical.get(key, lexical_floor) - lexical_mean) / lexical_spread
        if semantic:
            score += weights.semantic * (similarity - semantic_mean) / semantic_spread
        fused[key] = (round(score, 9), similarity)  # rounded: equal up to float noise is a tie
    ranked = sorted(fused.items(), key=lambda item: item[1], reverse=True)  # stable: BM25 order breaks ties
    return [(key, score) for key, (score, _similarity) in ranked]
