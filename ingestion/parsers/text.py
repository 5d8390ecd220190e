"""Plain text: numbered short lines are headings, paragraphs end at blank lines; the first line is the title."""

from __future__ import annotations

from ingestion.parsers.base import ParsedDocument, Parser, Sections, blocks_from_lines, read_text


def _parse_plain(text: str) -> ParsedDocument:
    sections = Sections()
    lines = text.splitlines()
    title = next((line.strip() for line in lines if line.strip()), "")
    return ParsedDocument(tuple(blocks_from_lines(lines, sections, None)), title)


PARSER = Parser(
    label="text",
    extensions=(".txt",),
    mime_types=("text/plain",),
    content="text",
    parse=lambda path, progress: _parse_plain(read_text(path)),
)
