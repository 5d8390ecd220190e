"""Stage 2: split parsed blocks into chunks that follow sections.

A chunk never spans two sections; a long section is split into windows of at most ``max_words`` words
that overlap by ``overlap_words``. Chunk ids are content hashes of the document, position and text, so
re-indexing the same content yields the same ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import groupby

from ingestion.parse import Block, ParsedDocument

SECTION_SEPARATOR = " › "


@dataclass(frozen=True)
class ChunkData:
    chunk_id: str
    ordinal: int
    text: str
    section: str
    page_start: int | None
    page_end: int | None


def chunk_id_for(document_id: int, ordinal: int, text: str) -> str:
    return hashlib.sha256(f"{document_id}\x1f{ordinal}\x1f{text}".encode()).hexdigest()[:32]


def _windows(words: list[tuple[str, int | None]], max_words: int, overlap: int) -> list[list[tuple[str, int | None]]]:
    if len(words) <= max_words:
        return [words]
    step = max(1, max_words - overlap)
    windows = []
    for start in range(0, len(words), step):
        windows.append(words[start : start + max_words])
        if start + max_words >= len(words):
            break
    return windows


def chunk_document(
    parsed: ParsedDocument, *, document_id: int, max_words: int = 120, overlap_words: int = 20
) -> list[ChunkData]:
    if overlap_words >= max_words:
        raise ValueError("overlap_words must be smaller than max_words")
    chunks: list[ChunkData] = []
    for section, section_blocks in groupby(parsed.blocks, key=lambda block: block.section):
        words: list[tuple[str, int | None]] = []
        block: Block
        for block in section_blocks:
            # Keep line breaks of lists and tables as their own token so the quoted text stays readable.
            for line_number, line in enumerate(block.text.split("\n")):
                tokens = line.split()
                if line_number and tokens:
                    tokens[0] = "\n" + tokens[0]
                words.extend((token, block.page) for token in tokens)
            if words:
                words[-1] = (words[-1][0] + "\n", words[-1][1])
        for window in _windows(words, max_words, overlap_words):
            text = " ".join(word for word, _ in window).replace(" \n", "\n").replace("\n ", "\n").strip()
            if not text:
                continue
            pages = [page for _, page in window if page is not None]
            ordinal = len(chunks)
            chunks.append(
                ChunkData(
                    chunk_id=chunk_id_for(document_id, ordinal, text),
                    ordinal=ordinal,
                    text=text,
                    section=SECTION_SEPARATOR.join(section),
                    page_start=min(pages) if pages else None,
                    page_end=max(pages) if pages else None,
                )
            )
    return chunks
