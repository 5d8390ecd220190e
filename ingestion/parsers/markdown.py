"""Markdown: headings, tables and fenced code kept; YAML front matter read as metadata (title, ``lang``,
``description``), never as text."""

from __future__ import annotations

import logging
import re

from ingestion.parsers.base import Block, ParsedDocument, Parser, Sections, read_text

logger = logging.getLogger(__name__)

_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MARKDOWN_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
# YAML front matter: a first line of exactly "---", then YAML up to a line "---" or "..." (Jekyll, Hugo,
# MkDocs, Docusaurus). At most this many lines, so a thematic break lower down is never taken for one.
_FRONT_MATTER_OPEN = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
_FRONT_MATTER_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
_FRONT_MATTER_MAX_LINES = 200
_LANGUAGE_TAG = re.compile(r"^([a-z]{2})(?:[-_][a-z0-9]+)*$")


def front_matter(markdown: str) -> tuple[dict[str, str], str]:
    """(the front matter's text fields, the Markdown after it). A YAML block that does not parse, or is not
    a mapping, is still metadata, never text: it is dropped with no fields. No front matter: ({}, markdown)."""
    opening = _FRONT_MATTER_OPEN.match(markdown)
    if opening is None:
        return {}, markdown
    closing = _FRONT_MATTER_CLOSE.search(markdown, opening.end())
    if closing is None or markdown.count("\n", opening.end(), closing.start()) > _FRONT_MATTER_MAX_LINES:
        return {}, markdown
    body = markdown[closing.end() :].lstrip("\r\n")
    import yaml

    try:
        data = yaml.safe_load(markdown[opening.end() : closing.start()])
    except yaml.YAMLError:
        logger.info("Markdown front matter is not valid YAML; left out of the text")
        return {}, body
    if not isinstance(data, dict):
        return {}, body
    fields = {
        str(key).lower(): " ".join(str(value).split())
        for key, value in data.items()
        if isinstance(value, (str, int, float))
    }
    return fields, body


def _declared_language(value: str) -> str:
    """``es``, ``es-ES``, ``en_GB`` -> the ISO 639-1 code; anything else -> ""."""
    match = _LANGUAGE_TAG.match(value.strip().lower())
    return match.group(1) if match else ""


def _parse_markdown(markdown: str) -> ParsedDocument:
    fields, markdown = front_matter(markdown)
    parsed = _parse_markdown_body(markdown)
    return ParsedDocument(
        parsed.blocks,
        fields.get("title") or parsed.title,
        language=_declared_language(fields.get("lang") or fields.get("language") or ""),
        description=fields.get("description", ""),
    )


def _parse_markdown_body(markdown: str) -> ParsedDocument:
    sections = Sections()
    blocks: list[Block] = []
    title = ""
    paragraph: list[str] = []
    table: list[str] = []
    fenced = False

    def flush() -> None:
        if paragraph:
            blocks.append(Block("\n".join(paragraph), sections.current))
            paragraph.clear()
        if table:
            blocks.append(Block("\n".join(table), sections.current, None, "table"))
            table.clear()

    for line in markdown.splitlines():
        if line.strip().startswith(("```", "~~~")):
            fenced = not fenced
            paragraph.append(line.rstrip())
            continue
        if fenced:
            paragraph.append(line.rstrip())
            continue
        match = _MARKDOWN_HEADING.match(line)
        if match:
            flush()
            level, text = len(match.group(1)), match.group(2)
            if level == 1 and not title:
                title = text
            sections.enter(level, text)
        elif _MARKDOWN_TABLE_ROW.match(line):
            if paragraph:
                blocks.append(Block("\n".join(paragraph), sections.current))
                paragraph.clear()
            table.append(line.strip())
        elif not line.strip():
            flush()
        else:
            if table:
                flush()
            paragraph.append(line.strip())
    flush()
    return ParsedDocument(tuple(blocks), title)


PARSER = Parser(
    label="Markdown",
    extensions=(".md", ".markdown"),
    mime_types=("text/markdown",),
    content="text",
    parse=lambda path, progress: _parse_markdown(read_text(path)),
)
