"""How strongly the retrieved passages bear on the question: the signal behind refusal and confidence.

Fusion scores (RRF and whatever replaces it) only order the hits of one query, so they cannot be compared
with a fixed threshold. This module derives its own normalised signal from the hits, independent of the
search backend's scoring:

- ``semantic``: cosine similarity between the query and the passage, embedded as the index embeds it
  (``"{title}. {section}\\n{text}"``), in [-1, 1];
- ``lexical``: share of the query's content words (stemmed, accent-free) that occur in the passage, [0, 1];
- ``support`` = ``w * semantic + (1 - w) * lexical``, ``w`` the embedding model's
  ``evidence_semantic_weight`` (``chatbot.rag.thresholds``: 0.5 for all-MiniLM-L6-v2); for a passage written in
  another language than the question's, when the embedding model reads both (``SEARCH_EMBEDDING_LANGUAGES``),
  ``semantic`` alone: such a passage shares no words with the question, so its lexical coverage says
  nothing, and counting it as 0 halved the evidence of every cross-language answer (issue 14).

The evidence of an answer is the best ``support`` among its passages. The refusal threshold on it
(``min_evidence``) is on the embedding model's scale: ``chatbot.rag.thresholds``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from chatbot.rag.text import content_terms
from chatbot.rag.thresholds import answer_thresholds
from ingestion.chunk import embedding_text
from ingestion.embed import Embedder
from ingestion.language import detect_language
from ingestion.search import SearchHit

PASSAGE_VECTOR_CACHE_SIZE = 20_000  # ~30 MB of 384-dim float32 vectors


@dataclass(frozen=True)
class PassageEvidence:
    semantic: float
    lexical: float
    # Written in another language than the question's, which the vectors also read: judged by its vector.
    cross_language: bool = False
    semantic_weight: float = 0.5  # the embedding model's evidence_semantic_weight

    @property
    def support(self) -> float:
        if self.cross_language:
            return self.semantic
        return self.semantic_weight * self.semantic + (1 - self.semantic_weight) * self.lexical


def passage_text_for_embedding(hit: SearchHit) -> str:
    """What the index embedded for the chunk, so a computed vector equals the stored one."""
    return embedding_text(hit.title, hit.section, hit.text)


def passage_language(hit: SearchHit) -> str:
    """The language a passage is written in, detected from its text (``SearchHit`` does not carry the
    language the index stored for it; a chunk's text is what its words are matched in anyway)."""
    return detect_language(hit.text)


def vectors_read(question_language: str, passage_language: str) -> bool:
    """The embedding model reads both languages (``SEARCH_EMBEDDING_LANGUAGES``; None: any)."""
    languages = settings.SEARCH_EMBEDDING_LANGUAGES
    return languages is None or {question_language, passage_language} <= languages


def lexical_overlap(query: str, passage: str) -> float:
    terms = content_terms(query)
    if not terms:
        return 0.0
    return len(terms & content_terms(passage)) / len(terms)


class VectorCache:
    """Vectors by (embedder, key), least recently used dropped first. Keys are content hashes (chunk ids) or
    the texts themselves, so a cached vector never goes stale, and popular passages and sentences are
    embedded once per process instead of once per question."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(
        self,
        embedder: Embedder,
        keys: Sequence[str],
        texts: Sequence[str],
        known: Sequence[np.ndarray | None] | None = None,
    ) -> np.ndarray:
        """One vector per key: the ``known`` one where given, else cached, else ``texts[i]`` embedded (each
        missing key once)."""
        named = [(embedder.name, key) for key in keys]
        with self._lock:
            found: list[np.ndarray | None] = [
                given if given is not None else self._vectors.get(key)
                for key, given in zip(named, known or [None] * len(keys), strict=True)
            ]
            for key in named:
                if key in self._vectors:
                    self._vectors.move_to_end(key)
        missing = {named[i]: texts[i] for i, vector in enumerate(found) if vector is None}
        if missing:
            fresh = dict(zip(missing, embedder.embed(list(missing.values())), strict=True))
            with self._lock:
                self._vectors.update(fresh)
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
            found = [vector if vector is not None else fresh[key] for key, vector in zip(named, found, strict=True)]
        return np.vstack([np.asarray(vector, dtype=np.float32) for vector in found if vector is not None])

    def remember(self, embedder_name: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            for key, vector in zip(keys, vectors, strict=True):
                self._vectors[(embedder_name, key)] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


_cache = VectorCache(PASSAGE_VECTOR_CACHE_SIZE)


def remember_passage_vectors(embedder_name: str, chunk_ids: Sequence[str], vectors: np.ndarray) -> None:
    """Seed the cache with vectors computed at indexing time (the calibration does, to skip re-embedding)."""
    _cache.remember(embedder_name, chunk_ids, vectors)


def passage_evidence(
    query: str, query_vector: np.ndarray, hits: Sequence[SearchHit], *, embedder: Embedder
) -> list[PassageEvidence]:
    """One ``PassageEvidence`` per hit, in the hits' order."""
    if not hits:
        return []
    question_language = detect_language(query)
    weight = answer_thresholds().evidence_semantic_weight
    vectors = _cache.vectors(
        embedder,
        [hit.chunk_id for hit in hits],
        [passage_text_for_embedding(hit) for hit in hits],
        known=[hit.vector for hit in hits],  # the index's own stored vectors, where the backend gave them
    )
    cosines = vectors @ np.asarray(query_vector, dtype=np.float32)
    evidence = []
    for hit, cosine in zip(hits, cosines, strict=True):
        language = passage_language(hit)
        evidence.append(
            PassageEvidence(
                semantic=round(float(cosine), 4),
                lexical=round(lexical_overlap(query, f"{hit.title} {hit.section} {hit.text}"), 4),
                cross_language=language != question_language and vectors_read(question_language, language),
                semantic_weight=weight,
            )
        )
    return evidence


def evidence_score(items: Sequence[PassageEvidence]) -> float:
    """The best passage's support; 0.0 without passages."""
    return round(max((item.support for item in items), default=0.0), 4)
