"""How strongly the retrieved passages bear on the question: the signal behind refusal and confidence.

Fusion scores (RRF and whatever replaces it) only order the hits of one query, so they cannot be compared
with a fixed threshold. This module derives its own normalised signal from the hits, independent of the
search backend's scoring:

- ``semantic``: cosine similarity between the query and the passage, embedded as the index embeds it
  (``"{title}. {section}\\n{text}"``), in [-1, 1];
- ``lexical``: share of the query's content words (stemmed, accent-free) that occur in the passage, [0, 1];
- ``support`` = ``SEMANTIC_WEIGHT * semantic + (1 - SEMANTIC_WEIGHT) * lexical``.

The evidence of an answer is the best ``support`` among its passages. ``ANSWER_MIN_EVIDENCE`` (settings)
is the refusal threshold on it, calibrated by ``bench/refusal_calibration.py``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from chatbot.rag.text import content_terms
from ingestion.chunk import embedding_text
from ingestion.embed import Embedder
from ingestion.search import SearchHit

SEMANTIC_WEIGHT = 0.5
PASSAGE_VECTOR_CACHE_SIZE = 20_000  # ~30 MB of 384-dim float32 vectors


@dataclass(frozen=True)
class PassageEvidence:
    semantic: float
    lexical: float

    @property
    def support(self) -> float:
        return SEMANTIC_WEIGHT * self.semantic + (1 - SEMANTIC_WEIGHT) * self.lexical


def passage_text_for_embedding(hit: SearchHit) -> str:
    """What the index embedded for the chunk, so a computed vector equals the stored one."""
    return embedding_text(hit.title, hit.section, hit.text)


def lexical_overlap(query: str, passage: str) -> float:
    terms = content_terms(query)
    if not terms:
        return 0.0
    return len(terms & content_terms(passage)) / len(terms)


class _VectorCache:
    """Passage vectors by (embedder, chunk id): chunk ids are content hashes, so a cached vector never goes
    stale, and popular passages are embedded once per process instead of once per question."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, hits: Sequence[SearchHit], embedder: Embedder) -> np.ndarray:
        """The hits' own stored vectors where the backend gave them; cached or freshly embedded otherwise."""
        keys = [(embedder.name, hit.chunk_id) for hit in hits]
        with self._lock:
            found: list[np.ndarray | None] = [
                hit.vector if hit.vector is not None else self._vectors.get(key)
                for hit, key in zip(hits, keys, strict=True)
            ]
            for key in keys:
                if key in self._vectors:
                    self._vectors.move_to_end(key)
        missing = [i for i, vector in enumerate(found) if vector is None]
        if missing:
            fresh = embedder.embed([passage_text_for_embedding(hits[i]) for i in missing])
            with self._lock:
                for i, vector in zip(missing, fresh, strict=True):
                    found[i] = self._vectors[keys[i]] = vector
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return np.vstack([vector for vector in found if vector is not None])

    def remember(self, embedder_name: str, chunk_ids: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            for chunk_id, vector in zip(chunk_ids, vectors, strict=True):
                self._vectors[(embedder_name, chunk_id)] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


_cache = _VectorCache(PASSAGE_VECTOR_CACHE_SIZE)


def remember_passage_vectors(embedder_name: str, chunk_ids: Sequence[str], vectors: np.ndarray) -> None:
    """Seed the cache with vectors computed at indexing time (the calibration does, to skip re-embedding)."""
    _cache.remember(embedder_name, chunk_ids, vectors)


def passage_evidence(
    query: str, query_vector: np.ndarray, hits: Sequence[SearchHit], *, embedder: Embedder
) -> list[PassageEvidence]:
    """One ``PassageEvidence`` per hit, in the hits' order."""
    if not hits:
        return []
    vectors = _cache.vectors(hits, embedder)
    cosines = vectors @ np.asarray(query_vector, dtype=np.float32)
    return [
        PassageEvidence(
            semantic=round(float(cosine), 4),
            lexical=round(lexical_overlap(query, f"{hit.title} {hit.section} {hit.text}"), 4),
        )
        for hit, cosine in zip(hits, cosines, strict=True)
    ]


def evidence_score(items: Sequence[PassageEvidence]) -> float:
    """The best passage's support; 0.0 without passages."""
    return round(max((item.support for item in items), default=0.0), 4)
