"""Stage 2: split parsed blocks into chunks that follow sections and fit the embedding model.

A chunk never spans two sections. What the model embeds is ``embedding_text(title, section, text)``; each
one stays within ``max_tokens`` tokens as counted by the embedding model's own tokenizer (longer input
would be silently truncated by the model). A long section is split between words (tables between rows,
repeating their header) into windows of about equal size that overlap by about ``overlap_tokens``. Chunk
ids are content hashes of the document, position and text, so re-indexing the same content yields the
same ids.

Counting every word separately costs more than embedding on two cores, so pieces are first sized in
proportion to their section's measured token count and every window is then measured exactly: a window
over budget is split again with corrected estimates until it fits.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from itertools import groupby

from ingestion.embed import TokenCounter
from ingestion.parsers import Block, ParsedDocument

SECTION_SEPARATOR = " › "
_MAX_REFINEMENTS = 6
_TARGET = 0.95  # window on estimates a little under budget, so few windows need measuring twice


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


def embedding_prefix(title: str, section: str) -> str:
    """The context embedded before a chunk's text: the document title and the headings below it."""
    parts = [part for part in section.split(SECTION_SEPARATOR) if part and part != title] if section else []
    heading = SECTION_SEPARATOR.join(parts)
    if title and heading:
        return f"{title}. {heading}\n"
    return f"{title or heading}\n" if (title or heading) else ""


def embedding_text(title: str, section: str, text: str) -> str:
    """Exactly what the embedding model sees for one chunk (uploads and the evaluation alike)."""
    return embedding_prefix(title, section) + text


@dataclass
class _Piece:
    """A word (prose and lists) or a row (tables); ``joiner`` goes before it inside a chunk."""

    text: str
    joiner: str
    page: int | None
    estimate: float
    header: str = ""  # for a table row: the table's header rows, repeated when a chunk starts mid-table


def _pieces(blocks: list[Block], tokens: int) -> list[_Piece]:
    pieces: list[_Piece] = []
    for number, block in enumerate(blocks):
        if block.kind == "table":
            rows = [row for row in block.text.split("\n") if row.strip()]
            header = "\n".join(rows[:2]) if len(rows) > 2 and set(rows[1]) <= set("|-: ") else ""
            for index, row in enumerate(rows):
                joiner = "\n\n" if (index == 0 and number) else ("\n" if index else "")
                pieces.append(_Piece(row, joiner, block.page, 0.0, header if index >= 2 else ""))
            continue
        for line_number, line in enumerate(block.text.split("\n")):
            for word_number, word in enumerate(line.split()):
                if word_number:
                    joiner = " "
                elif line_number:
                    joiner = "\n"
                else:
                    joiner = "\n\n" if number else ""
                pieces.append(_Piece(word, joiner, block.page, 0.0))
    if pieces:
        pieces[0].joiner = ""
    characters = sum(len(piece.text) + 1 for piece in pieces) or 1
    for piece in pieces:
        piece.estimate = tokens * (len(piece.text) + 1) / characters
    return pieces


def _split_oversized(pieces: list[_Piece], budget: int) -> list[_Piece]:
    """A single word or row larger than half the budget (a URL, a huge row) is cut into slices."""
    result: list[_Piece] = []
    for piece in pieces:
        if piece.estimate <= budget / 2 or len(piece.text) < 2:
            result.append(piece)
            continue
        parts = math.ceil(piece.estimate / (budget / 4))
        size = max(1, math.ceil(len(piece.text) / parts))
        for start in range(0, len(piece.text), size):
            joiner = piece.joiner if start == 0 else ""
            part = piece.text[start : start + size]
            result.append(_Piece(part, joiner, piece.page, piece.estimate * len(part) / len(piece.text), piece.header))
    return result


def _render(pieces: list[_Piece]) -> str:
    text = ""
    for index, piece in enumerate(pieces):
        if index == 0:
            text = (piece.header + "\n" if piece.header else "") + piece.text
        else:
            text += piece.joiner + piece.text
    return text.strip()


def _windows(pieces: list[_Piece], budget: float, overlap: float) -> list[tuple[int, int]]:
    """Overlapping windows of about equal size: as few as the budget allows, each filled to the section's
    share rather than to the budget, so a section a little over the budget splits into two halves instead
    of a full window and a short tail (a tail of a few words is mostly its heading)."""
    total = sum(piece.estimate for piece in pieces)
    if total > budget:
        count = math.ceil((total - overlap) / max(1e-9, budget - overlap))
        # The even share, with a little slack (2% and one piece) so rounding never spills into an extra window.
        budget = min(budget, (total + (count - 1) * overlap) / count * 1.02 + max(p.estimate for p in pieces))
    windows: list[tuple[int, int]] = []
    start = 0
    while start < len(pieces):
        end, total = start, 0.0
        while end < len(pieces) and (end == start or total + pieces[end].estimate <= budget):
            total += pieces[end].estimate
            end += 1
        windows.append((start, end))
        if end >= len(pieces):
            break
        back, shared = end, 0.0
        while back > start + 1 and shared + pieces[back - 1].estimate <= overlap:
            back -= 1
            shared += pieces[back].estimate
        start = back
    return windows


def chunk_document(
    parsed: ParsedDocument,
    *,
    document_id: int,
    counter: TokenCounter,
    title: str = "",
    max_tokens: int = 256,
    overlap_tokens: int = 24,
) -> list[ChunkData]:
    """Chunks whose ``embedding_text(title, section, text)`` fits ``min(max_tokens, counter.max_tokens)``."""
    limit = min(max_tokens, counter.max_tokens)
    if overlap_tokens >= limit // 2:
        raise ValueError("overlap_tokens must be smaller than half of the token budget")
    sections: list[tuple[str, list[Block]]] = []
    for path, section_blocks in groupby(parsed.blocks, key=lambda block: block.section):
        blocks = [block for block in section_blocks if block.text.strip()]
        if blocks:
            sections.append((SECTION_SEPARATOR.join(path), blocks))
    if not sections:
        return []
    # One batched tokenizer call for every section's prefix and text.
    prefixes = [embedding_prefix(title, name) for name, _ in sections]
    whole = ["\n\n".join(block.text for block in blocks) for _, blocks in sections]
    counts = counter.count_tokens(prefixes + whole)
    prefix_tokens, text_tokens = counts[: len(sections)], counts[len(sections) :]

    plans: list[tuple[str, int, list[_Piece]]] = []
    for (name, blocks), prefix, tokens in zip(sections, prefix_tokens, text_tokens, strict=True):
        budget = max(limit // 2, limit - prefix)  # a heading path never takes more than half the budget
        plans.append((name, budget, _split_oversized(_pieces(blocks, tokens), budget)))

    # Window every section on estimates and measure every window in one call; a section with a window
    # over budget has that window's estimates corrected and is windowed again.
    accepted: dict[int, list[tuple[int, int]]] = {}
    pending = list(range(len(plans)))
    for attempt in range(_MAX_REFINEMENTS + 1):
        windows = {index: _windows(plans[index][2], plans[index][1] * _TARGET, overlap_tokens) for index in pending}
        flat = [(index, start, end) for index in pending for start, end in windows[index]]
        measured = counter.count_tokens([_render(plans[index][2][start:end]) for index, start, end in flat])
        over: set[int] = set()
        for (index, start, end), tokens in zip(flat, measured, strict=True):
            budget, pieces = plans[index][1], plans[index][2]
            if tokens > budget and end - start > 1:
                over.add(index)
                window = pieces[start:end]
                scale = tokens / max(1e-9, sum(piece.estimate for piece in window))
                for piece in window:
                    piece.estimate *= scale
        for index in pending:
            if index not in over or attempt == _MAX_REFINEMENTS:
                accepted[index] = windows[index]
        pending = [index for index in pending if index not in accepted]
        if not pending:
            break

    chunks: list[ChunkData] = []
    for index, (name, _, pieces) in enumerate(plans):
        for start, end in accepted[index]:
            window = pieces[start:end]
            text = _render(window)
            if not text:
                continue
            pages = [piece.page for piece in window if piece.page is not None]
            ordinal = len(chunks)
            chunks.append(
                ChunkData(
                    chunk_id=chunk_id_for(document_id, ordinal, text),
                    ordinal=ordinal,
                    text=text,
                    section=name,
                    page_start=min(pages) if pages else None,
                    page_end=max(pages) if pages else None,
                )
            )
    return chunks
