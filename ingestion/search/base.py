"""The search contract every backend honours (embedded SQLite, Elasticsearch)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

# ``hybrid`` is what answers use; the single-signal modes exist to measure each input of the fusion.
SearchMode = Literal["hybrid", "bm25", "dense"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "bm25", "dense")


@dataclass(frozen=True)
class IndexedChunk:
    chunk_id: str
    document_id: int
    title: str
    section: str
    text: str
    page_start: int | None
    page_end: int | None
    language: str
    principals: frozenset[str]
    vector: np.ndarray


@dataclass(frozen=True)
class SearchHit:
    chunk_id: str
    document_id: int
    score: float
    title: str
    section: str
    text: str
    page_start: int | None
    page_end: int | None
    # The vector stored for the chunk, where the backend holds it in memory (embedded); None otherwise.
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)


class SearchBackend(Protocol):
    """Hybrid (BM25 + vector) search over chunks, filtered by access principals.

    - ``upsert`` replaces *all* previous chunks of the document with the given ones in one step: a
      concurrent search sees either the old set or the new set, never a mix, and chunks beyond the new
      length are gone.
    - ``upsert_many`` does what ``upsert`` does for several documents, as one write where the backend can
      (embedded: one SQLite transaction, so one commit for a batch of documents instead of one each).
    - ``delete`` removes every chunk of the document at once.
    - ``search`` requires the asking user's principals and never returns a chunk whose principals do not
      intersect them; the filter applies before ranking, so a restricted user still gets up to ``k`` hits
      from what they may see. An empty principal set returns nothing. Hits are ranked, best first, with a
      score that only orders hits of the same query. Lexical matching is language-aware (each chunk is
      analysed in its own ``language``, the query in its detected one); ``mode`` picks BM25 or vectors
      alone instead of their fusion (``ingestion.search.fusion``), for measurement.
    """

    def upsert(self, document_id: int, chunks: Sequence[IndexedChunk]) -> None: ...

    def upsert_many(self, documents: Sequence[tuple[int, Sequence[IndexedChunk]]]) -> None: ...

    def delete(self, document_id: int) -> None: ...

    def set_principals(self, document_id: int, principals: frozenset[str]) -> None:
        """Replace the principals of every chunk of the document in one write (text and vectors untouched);
        the next search sees the new access. A document with no chunks is left as it is."""
        ...

    def search(
        self,
        query: str,
        query_vector: np.ndarray,
        *,
        principals: frozenset[str],
        k: int,
        mode: SearchMode = "hybrid",
    ) -> list[SearchHit]: ...

    def clear(self) -> None:
        """Remove every chunk (used by reindexing and tests)."""
        ...


@runtime_checkable
class FixedDimensionBackend(Protocol):
    """A backend whose index holds vectors of one width, fixed when the index is created (Elasticsearch:
    the ``dense_vector`` mapping). A model of another width cannot write there: ``rebuild`` fills a new
    index made for the configured model's width and puts it in the old one's place in one step. (The
    embedded index stores any width per row, so it has neither method.)"""

    def vector_dimension(self) -> int | None:
        """The width of the vectors the live index takes, or None where it has no fixed width yet."""
        ...

    def rebuild(self, documents: Iterable[tuple[int, Sequence[IndexedChunk]]]) -> str: ...
