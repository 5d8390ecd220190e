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
    # The language each candidate chunk is written in, where the backend knows it (cross-language fusion).
    languages: Mapping[Key, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FusionWeights:
    lexical: float = 0.5
    semantic: float = 0.5
    # The question's language and the languages the vectors read (None: any). A candidate written in another
    # language that the vectors also read is one BM25 cannot judge: its lexical evidence is taken to be its
    # vector evidence, so fusion does not bury a passage only the vectors can find (see ``fuse``).
    query_language: str = ""
    vector_languages: frozenset[str] | None = frozenset()

    def reads_across(self, language: str) -> bool:
        """Whether a chunk in ``language`` is one the vectors judge across languages for this question."""
        if not self.query_language or not language or language == self.query_language:
            return False
        covered = self.vector_languages
        return covered is None or (self.query_language in covered and language in covered)


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
# A chunk in another language than the question's, which the vectors read: its missing lexical z-score is
# taken as this share of its vector z-score (see ``fuse``). Measured with the multilingual model (nDCG@10,
# evaluation/goldsets/beir, and the same sets with ConditionalQA's 59 English pages added as distractors):
# 1.0 is best across languages (Spanish questions about English documents 0.935) but lets English pages
# that merely resemble a Spanish question pass the Spanish answer (demo 0.963 < vectors alone 0.982); 0.5
# falls below vectors alone across languages (0.838 < 0.859); 0.75 keeps hybrid at or above the better
# single retriever on every set but one (demo with distractors: 0.945, BM25 alone 1.000, old fusion 0.982).
CROSS_LANGUAGE_TRUST = 0.75
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
    return FusionWeights(
        lexical=1.0 - semantic,
        semantic=semantic,
        query_language=query_language,
        vector_languages=embedding_languages,
    )


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

    Across languages (``weights.reads_across`` the chunk's language): BM25 scores a question against a
    passage in another language on shared names and numbers at best, so such a candidate's lexical
    z-score is the larger of its own and its vector z-score. Measured on the demo company's Spanish
    questions about its English documents (``evaluation/goldsets/crosslingual.json``).
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
        lexical_z = (lexical.get(key, lexical_floor) - lexical_mean) / lexical_spread if lexical else 0.0
        semantic_z = (similarity - semantic_mean) / semantic_spread if semantic else 0.0
        if lexical and semantic and weights.reads_across(candidates.languages.get(key, "")):
            lexical_z = max(lexical_z, CROSS_LANGUAGE_TRUST * semantic_z)
        score = 0.0
        if lexical:
            score += weights.lexical * lexical_z
        if semantic:
            score += weights.semantic * semantic_z
        fused[key] = (round(score, 9), similarity)  # rounded: equal up to float noise is a tie
    ranked = sorted(fused.items(), key=lambda item: item[1], reverse=True)  # stable: BM25 order breaks ties
    return [(key, score) for key, (score, _similarity) in ranked]
