"""Ranking metrics over one query, as trec_eval and BEIR compute them, and the per-answer measures that
``evaluate_answers`` averages.

``ranked`` is a list of document ids, best first; ``judgements`` maps a document id to its relevance grade
(``> 0`` is relevant; absent or 0 is not). Gains are linear in the grade and discounted by log2(rank + 1).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import combinations


def ndcg_at(ranked: Sequence[str], judgements: Mapping[str, int], k: int) -> float:
    gains = [judgements.get(doc, 0) for doc in ranked[:k]]
    dcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains) if gain > 0)
    ideal = sorted((grade for grade in judgements.values() if grade > 0), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], judgements: Mapping[str, int], k: int) -> float:
    relevant = {doc for doc, grade in judgements.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def first_relevant_rank(ranked: Sequence[str], judgements: Mapping[str, int]) -> int | None:
    """The rank (from 1) of the first relevant document, ``None`` when none is ranked."""
    return next((rank for rank, doc in enumerate(ranked, start=1) if judgements.get(doc, 0) > 0), None)


def mrr_at(ranked: Sequence[str], judgements: Mapping[str, int], k: int) -> float:
    rank = first_relevant_rank(ranked[:k], judgements)
    return 0.0 if rank is None else 1.0 / rank


def percentile(values: Sequence[float], share: float) -> float:
    """Linear-interpolated percentile (numpy's default), ``share`` in [0, 1]."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# -- answers -------------------------------------------------------------------------------------------
def hit_at(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1.0 when any relevant document is among the first ``k``, else 0.0."""
    return 1.0 if set(ranked[:k]) & set(relevant) else 0.0


def jaccard(first: Collection[str], second: Collection[str]) -> float:
    """Overlap of two sets; two empty sets agree completely."""
    a, b = set(first), set(second)
    return 1.0 if not a | b else len(a & b) / len(a | b)


def mean_pairwise_agreement(versions: Sequence[Collection[str]]) -> float:
    """Mean Jaccard agreement over every pair of versions (1.0 for fewer than two)."""
    pairs = list(combinations(versions, 2))
    return 1.0 if not pairs else sum(jaccard(a, b) for a, b in pairs) / len(pairs)


def citation_precision(cited: Sequence[str], expected: Collection[str]) -> float | None:
    """Share of cited documents that are expected ones; ``None`` when nothing is cited."""
    if not cited:
        return None
    return sum(1 for doc in cited if doc in expected) / len(cited)


def supported_share(judged: int, unsupported: int) -> float | None:
    """Share of judged answer sentences that the cited passages support; ``None`` when none was judged."""
    return None if judged <= 0 else (judged - unsupported) / judged


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not ``None``, rounded to 4 places; ``None`` when there are none."""
    present = [float(value) for value in values if value is not None]
    return round(sum(present) / len(present), 4) if present else None
