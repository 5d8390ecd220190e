"""Retrieval for one question, always under the asking user's principals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.urls import reverse

from chatbot.events import Source
from chatbot.llm.base import Passage
from chatbot.rag.evidence import PassageEvidence, evidence_score, passage_evidence
from ingestion.chunk import SECTION_SEPARATOR
from ingestion.embed import get_embedder
from ingestion.search import SearchBackend, SearchHit, get_search_backend

QUOTE_CHARS = 320


@dataclass(frozen=True)
class Retrieval:
    hits: list[SearchHit]
    evidence: list[PassageEvidence]  # one per hit
    query_vector: np.ndarray | None = None  # the query as embedded for the search

    @property
    def score(self) -> float:
        return evidence_score(self.evidence)

    def provenance(self) -> list[dict[str, object]]:
        """What is stored with the answer: each hit's chunk, its search score and its evidence."""
        return [
            {
                "chunk_id": hit.chunk_id,
                "document_id": hit.document_id,
                "score": hit.score,
                "semantic": item.semantic,
                "lexical": item.lexical,
            }
            for hit, item in zip(self.hits, self.evidence, strict=True)
        ]


def retrieve(query: str, *, principals: frozenset[str], k: int, backend: SearchBackend | None = None) -> Retrieval:
    """The top ``k`` passages the user may see for ``query``, with how strongly each bears on it, from
    ``backend`` (the configured search backend when ``None``; evaluations pass a throwaway index)."""
    embedder = get_embedder()
    vector = embedder.embed([query])[0]
    hits = (backend or get_search_backend()).search(query, vector, principals=principals, k=k)
    return Retrieval(hits=hits, evidence=passage_evidence(query, vector, hits, embedder=embedder), query_vector=vector)


def closest_documents(hits: list[SearchHit], *, limit: int = 3) -> list[SearchHit]:
    """The best hit of each distinct document, best first: what a refusal lists."""
    best: dict[int, SearchHit] = {}
    for hit in hits:
        best.setdefault(hit.document_id, hit)
    return list(best.values())[:limit]


def location_label(hit: SearchHit) -> str:
    """ "3. Solicitud · p. 2": the section path below the document title, then the page or page range."""
    parts = [part for part in hit.section.split(SECTION_SEPARATOR) if part and part != hit.title]
    label = SECTION_SEPARATOR.join(parts)
    if hit.page_start is not None:
        pages = (
            f"p. {hit.page_start}" if hit.page_end in (None, hit.page_start) else f"pp. {hit.page_start}–{hit.page_end}"
        )
        label = f"{label} · {pages}" if label else pages
    return label


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def citation_url(hit: SearchHit) -> str:
    return f"{reverse('document_detail', args=[hit.document_id])}?chunk={hit.chunk_id}#chunk-{hit.chunk_id}"


def passages_from_sources(sources: list[Source], hits: list[SearchHit]) -> tuple[Passage, ...]:
    """The hits as the numbered passages an answer is written from and checked against (``sources`` are
    ``sources_from_hits(hits)``: same numbers, titles and locations)."""
    return tuple(
        Passage(n=source["n"], title=source["title"], location=source["location"], text=hit.text)
        for source, hit in zip(sources, hits, strict=True)
    )


def sources_from_hits(hits: list[SearchHit]) -> list[Source]:
    return [
        Source(
            n=n,
            document_id=hit.document_id,
            title=hit.title,
            location=location_label(hit),
            quote=quote(hit.text),
            url=citation_url(hit),
        )
        for n, hit in enumerate(hits, start=1)
    ]
