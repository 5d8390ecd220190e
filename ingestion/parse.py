"""Stage 1: turn an uploaded file into text blocks with their section path and page.

Libraries: pypdf (pure Python, reads the text layer, detects encryption), python-docx (paragraph styles
give real headings), BeautifulSoup (tolerant HTML parsing; we keep only the main content).
Every failure a person can fix is raised as ``ParseError`` with a readable reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_EXTENSIONS = (".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt")

# "3. Solicitud", "3.2 Plazos", "Section 4 - Returns" style headings in text without markup.
_NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*\.?)\s+[A-ZÁÉÍÓÚÑ¿¡][^\n]{0,60}$")
_MAX_HEADING_WORDS = 9
_RULE = re.compile(r"[=\-_*~#]{3,}")
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


class ParseError(Exception):
    """The file cannot be read; ``str(error)`` is shown to the person who uploaded it."""


@dataclass(frozen=True)
class Block:
    text: str
    section: tuple[str, ...] = ()
    page: int | None = None


@dataclass(frozen=True)
class ParsedDocument:
    blocks: tuple[Block, ...]
    title: str = ""

    @property
    def text(self) -> str:
        return "\n".join(block.text for block in self.blocks)


def parse_file(path: Path, *, original_name: str = "") -> ParsedDocument:
    name = original_name or path.name
    extension = Path(name).suffix.lower()
    if extension not in SUPPORTED_EXTENSIONS:
        raise ParseError(f"Unsupported file type {extension or '(none)'}; use PDF, DOCX, HTML, Markdown or text.")
    if path.stat().st_size == 0:
        raise ParseError("The file is empty.")
    if extension == ".pdf":
        parsed = _parse_pdf(path)
    elif extension == ".docx":
        parsed = _parse_docx(path)
    elif extension in (".html", ".htm"):
        parsed = _parse_html(_read_text(path))
    elif extension in (".md", ".markdown"):
        parsed = _parse_markdown(_read_text(path))
    else:
        parsed = _parse_plain(_read_text(path))
    if not any(block.text.strip() for block in parsed.blocks):
        raise ParseError("No text could be extracted from the file.")
    return parsed


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise ParseError("The file is binary, not text: its content does not match its extension.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _Sections:
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


def _blocks_from_lines(lines: Iterator[str] | list[str], sections: _Sections, page: int | None) -> list[Block]:
    """Plain lines (PDF, text): numbered short lines are headings, paragraphs end at blank lines."""
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


def _parse_pdf(path: Path) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise ParseError("The PDF is password-protected; upload an unprotected copy.")
        pages = [(page.extract_text() or "").splitlines() for page in reader.pages]
        running = _running_lines(pages)
        sections = _Sections()
        blocks: list[Block] = []
        for number, lines in enumerate(pages, start=1):
            body = [line for line in lines if _normalise_running(line) not in running]
            blocks.extend(_blocks_from_lines(body, sections, number))
        title = str(reader.metadata.get("/Title") or "") if reader.metadata else ""
    except ParseError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as error:
        raise ParseError(f"The PDF is damaged or not a PDF ({error}).") from error
    return ParsedDocument(tuple(blocks), title)


def _normalise_running(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip().lower())


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Page headers and footers: lines (digits ignored) found on most pages of a multi-page PDF."""
    if len(pages) < 2:
        return {
            line
            for line in map(_normalise_running, pages[0] if pages else [])
            if re.fullmatch(r"(página|page) #.*", line)
        }
    counts: dict[str, int] = {}
    for lines in pages:
        for line in {_normalise_running(line) for line in lines if line.strip()}:
            counts[line] = counts.get(line, 0) + 1
    return {line for line, count in counts.items() if count > len(pages) / 2}


def _parse_docx(path: Path) -> ParsedDocument:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ParseError(f"The DOCX file is damaged or not a Word document ({error}).") from error
    sections = _Sections()
    blocks: list[Block] = []
    title = ""
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style == "Title" or (style.startswith("Heading") and style[-1:].isdigit()):
            level = 1 if style == "Title" else int(style.split()[-1])
            if level == 1 and not title:
                title = text
            sections.enter(level, text)
            continue
        prefix = "- " if "List" in style else ""
        blocks.append(Block(prefix + text, sections.current))
    for table in document.tables:
        rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
        if rows:
            blocks.append(Block("\n".join(rows), ()))
    return ParsedDocument(tuple(blocks), title)


def _parse_html(html: str) -> ParsedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "form", "noscript", "iframe"]):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    title = soup.title.get_text(strip=True) if soup.title else ""
    sections = _Sections()
    blocks: list[Block] = []
    for element in root.find_all(["h1", "h2", "h3", "h4", "p", "li", "tr", "pre", "blockquote"]):
        if element.name in ("p", "li") and element.find_parent(["li", "blockquote", "td"]):
            continue
        if element.name.startswith("h"):
            text = element.get_text(" ", strip=True)
            sections.enter(int(element.name[1]), text)
            if element.name == "h1" and not title:
                title = text
            continue
        if element.name == "tr":
            text = " | ".join(cell.get_text(" ", strip=True) for cell in element.find_all(["th", "td"]))
        else:
            text = element.get_text(" ", strip=True)
            if element.name == "li":
                text = f"- {text}"
        if text.strip():
            blocks.append(Block(text, sections.current))
    return ParsedDocument(tuple(blocks), title)


def _parse_markdown(markdown: str) -> ParsedDocument:
    sections = _Sections()
    blocks: list[Block] = []
    title = ""
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("\n".join(paragraph), sections.current))
            paragraph.clear()

    for line in markdown.splitlines():
        match = _MARKDOWN_HEADING.match(line)
        if match:
            flush()
            level, text = len(match.group(1)), match.group(2)
            if level == 1 and not title:
                title = text
            sections.enter(level, text)
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
    flush()
    return ParsedDocument(tuple(blocks), title)


def _parse_plain(text: str) -> ParsedDocument:
    sections = _Sections()
    lines = text.splitlines()
    title = next((line.strip() for line in lines if line.strip()), "")
    return ParsedDocument(tuple(_blocks_from_lines(lines, sections, None)), title)
