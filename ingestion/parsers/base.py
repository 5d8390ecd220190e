"""What every parser shares: the blocks it yields, its error, its declaration, and the plain-line reading
that text, PDF and OCR have in common."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

# "3. Solicitud", "3.2 Plazos", "Section 4 - Returns" style headings in text without markup.
_NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*\.?)\s+[A-ZÁÉÍÓÚÑ¿¡][^\n]{0,60}$")
_MAX_HEADING_WORDS = 9
_RULE = re.compile(r"[=\-_*~#]{3,}")

ProgressCallback = Callable[[str, float, str], None]
"""``(stage, fraction done 0..1, detail)``; parsing reports ``parsing`` and ``ocr`` ("OCR page 3/12")."""


class ParseError(Exception):
    """The file cannot be read; ``str(error)`` is shown to the person who uploaded it."""


@dataclass(frozen=True)
class Block:
    text: str
    section: tuple[str, ...] = ()
    page: int | None = None
    kind: str = "text"  # "text", "list" (one item a line) or "table" (Markdown, one row a line, header first)


@dataclass(frozen=True)
class ParsedDocument:
    blocks: tuple[Block, ...]
    title: str = ""
    ocr_pages: tuple[int, ...] = field(default=())  # pages read by OCR (1-based; 1 for a single image)
    # Declared by the document itself (Markdown front matter ``lang``, ``description``); "" when not.
    language: str = ""
    description: str = ""

    @property
    def text(self) -> str:
        return "\n".join(block.text for block in self.blocks)


@dataclass(frozen=True)
class Parser:
    """One format, as the registry (``ingestion/parsers/registry.py``) knows it."""

    label: str  # how the list of formats names it ("PDF", "an image")
    extensions: tuple[str, ...]  # lower case, with the dot
    mime_types: tuple[str, ...]
    content: str  # what ``sniff`` must find in the bytes: "pdf", "docx", "image" or "text"
    parse: Callable[[Path, ProgressCallback], ParsedDocument]


def read_text(path: Path) -> str:
    """A text file's characters: UTF-8 (with or without BOM), else Windows "ANSI", else Latin-1."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")  # Windows "ANSI" text, the usual non-UTF-8 office file
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class Sections:
    """Tracks the current heading path while walking a document."""

    def __init__(self) -> None:
        self.path: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> None:
        while self.path and self.path[-1][0] >= level:
            self.path.pop()
        self.path.append((level, title))

    @property
    def current(self) -> tuple[str, ...]:
        return tuple(title for _, title in self.path)


def _heading_level(numbering: str) -> int:
    return numbering.rstrip(".").count(".") + 2  # "3." -> 2, "3.1" -> 3; level 1 is the title


def blocks_from_lines(lines: Iterable[str], sections: Sections, page: int | None) -> list[Block]:
    """Plain lines (PDF, text, OCR): numbered short lines are headings, paragraphs end at blank lines."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block(" ".join(paragraph), sections.current, page))
            paragraph.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            continue
        if _RULE.fullmatch(line):  # setext underlines and separators
            continue
        match = _NUMBERED_HEADING.match(line)
        if match and not line.endswith((".", ",", ";", ":")) and len(line.split()) <= _MAX_HEADING_WORDS:
            flush()
            sections.enter(_heading_level(match.group(1)), line)
            continue
        paragraph.append(line)
    flush()
    return blocks


def markdown_table(rows: Iterable[Iterable[str | None]]) -> str:
    """Rows of cells as a Markdown table; the first non-empty row is the header."""
    cleaned = [
        [" ".join((cell or "").split()).replace("|", "\\|") for cell in row]
        for row in rows
        if any((cell or "").strip() for cell in row)
    ]
    if not cleaned:
        return ""
    width = max(len(row) for row in cleaned)
    cleaned = [row + [""] * (width - len(row)) for row in cleaned]
    lines = ["| " + " | ".join(cleaned[0]) + " |", "| " + " | ".join(["---"] * width) + " |"]
    lines.extend("| " + " | ".join(row) + " |" for row in cleaned[1:])
    return "\n".join(lines)
