"""Preparing a parsed document for the index: chunk, detect its language, embed. No database: uploads (through
``ingestion/pipeline.py``), bulk loads and the retrieval evaluation all go through here, so what is measured
is what is served."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from ingestion.chunk import ChunkData, chunk_document, embedding_text
from ingestion.embed import Embedder, get_embedder
from ingestion.language import detect_majority_language
from ingestion.parsers import ParsedDocument
from ingestion.search import IndexedChunk

_EMBED_STEP = 64  # texts per embedding call between two progress reports


@dataclass(frozen=True)
class PreparedDocument:
    chunks: list[ChunkData]
    indexed: list[IndexedChunk]
    language: str


@dataclass(frozen=True)
class PrepareInput:
    parsed: ParsedDocument
    document_id: int
    title: str
    principals: frozenset[str]


def document_prepare(
    parsed: ParsedDocument,
    *,
    document_id: int,
    title: str,
    principals: frozenset[str],
    embedder: Embedder | None = None,
) -> PreparedDocument:
    """Chunk, detect the language and embed one document: everything between parsing and indexing.
    ``embedder``: the configured one unless given (the evaluation passes its caching wrapper)."""
    inputs = [PrepareInput(parsed, document_id, title, principals)]
    embedder = embedder or get_embedder()
    chunked, texts = prepare_chunks(inputs, embedder)
    return prepare_assemble(inputs, chunked, prepare_vectors(texts, EmbedProgress(len(texts)), embedder))[0]


def prepare_chunks(inputs: Sequence[PrepareInput], embedder: Embedder) -> tuple[list[list[ChunkData]], list[str]]:
    """Each document's chunks (counted with ``embedder``'s tokenizer), and every text to embed (all
    documents, in order)."""
    chunked = [
        chunk_document(
            item.parsed,
            document_id=item.document_id,
            counter=embedder,
            title=item.title,
            max_tokens=settings.CHUNK_MAX_TOKENS,
            overlap_tokens=settings.CHUNK_OVERLAP_TOKENS,
        )
        for item in inputs
    ]
    texts = [
        embedding_text(item.title, chunk.section, chunk.text)
        for item, chunks in zip(inputs, chunked, strict=True)
        for chunk in chunks
    ]
    return chunked, texts


class EmbedProgress:
    """Texts embedded so far; written by the embedding thread, read by the one reporting progress."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


def prepare_vectors(texts: list[str], progress: EmbedProgress, embedder: Embedder) -> np.ndarray:
    """Pure computation (no database), so it may run in a thread beside the next batch's parsing."""
    parts = []
    for start in range(0, len(texts), _EMBED_STEP):
        parts.append(embedder.embed(texts[start : start + _EMBED_STEP]))
        progress.done = min(len(texts), start + _EMBED_STEP)
    return np.vstack(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def prepare_assemble(
    inputs: Sequence[PrepareInput], chunked: list[list[ChunkData]], vectors: np.ndarray
) -> list[PreparedDocument]:
    rows = iter(vectors)
    prepared = []
    for item, chunks in zip(inputs, chunked, strict=True):
        # Declared (front matter) first; else the language of most of the body's words.
        language = item.parsed.language or detect_majority_language([block.text for block in item.parsed.blocks])
        indexed = [
            IndexedChunk(
                chunk_id=chunk.chunk_id,
                document_id=item.document_id,
                title=item.title,
                section=chunk.section,
                text=chunk.text,
                page_start=chunk.page_start,
                page_end=chunk.page_end,
                language=language,
                principals=item.principals,
                vector=next(rows),
            )
            for chunk in chunks
        ]
        prepared.append(PreparedDocument(chunks=chunks, indexed=indexed, language=language))
    return prepared
