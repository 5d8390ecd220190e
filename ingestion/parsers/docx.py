"""DOCX: **python-docx** walks paragraphs and tables in document order with their real heading and list
styles; the archive is checked first (``zipfiles.zip_check``)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ingestion.parsers.base import Block, ParsedDocument, ParseError, Parser, Sections, markdown_table
from ingestion.parsers.zipfiles import zip_check

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class _DocxLists:
    """Resolves a paragraph's list marker ("- " or "2. ") from its numbering definition."""

    def __init__(self, document: Any) -> None:
        self.formats: dict[tuple[str, str], str] = {}
        self.counters: dict[tuple[str, str], int] = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract_formats: dict[str, dict[str, str]] = {}
        for abstract in numbering.iter(f"{_W}abstractNum"):
            levels = {
                level.get(f"{_W}ilvl", "0"): (level.find(f"{_W}numFmt").get(f"{_W}val", "decimal"))
                for level in abstract.iter(f"{_W}lvl")
                if level.find(f"{_W}numFmt") is not None
            }
            abstract_formats[abstract.get(f"{_W}abstractNumId", "")] = levels
        for num in numbering.iter(f"{_W}num"):
            abstract_id = num.find(f"{_W}abstractNumId")
            if abstract_id is None:
                continue
            for level, fmt in abstract_formats.get(abstract_id.get(f"{_W}val", ""), {}).items():
                self.formats[(num.get(f"{_W}numId", ""), level)] = fmt

    @staticmethod
    def _numbering(paragraph: Any) -> tuple[str, str] | None:
        for properties in (paragraph._p.pPr, getattr(paragraph.style, "element", None)):
            if properties is None:
                continue
            pPr = properties if properties.tag == f"{_W}pPr" else properties.find(f"{_W}pPr")
            numPr = pPr.find(f"{_W}numPr") if pPr is not None else None
            if numPr is None:
                continue
            num_id = numPr.find(f"{_W}numId")
            level = numPr.find(f"{_W}ilvl")
            if num_id is not None and num_id.get(f"{_W}val") not in (None, "0"):
                return num_id.get(f"{_W}val", ""), level.get(f"{_W}val", "0") if level is not None else "0"
        return None

    def marker(self, paragraph: Any, style: str) -> str:
        numbering = self._numbering(paragraph)
        if numbering is None:
            if "List Number" in style:
                numbering = ("style:" + style, "0")
                self.formats.setdefault(numbering, "decimal")
            elif "List" in style:
                return "- "
            else:
                return ""
        fmt = self.formats.get(numbering, "bullet")
        indent = "  " * int(numbering[1] or 0)
        if fmt in ("bullet", "none"):
            return indent + "- "
        self.counters[numbering] = self.counters.get(numbering, 0) + 1
        return f"{indent}{self.counters[numbering]}. "


def _docx_table(table: Any) -> str:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats; keep it once
                continue
            seen.add(id(cell._tc))
            cells.append(cell.text)
        rows.append(cells)
    return markdown_table(rows)


def _parse_docx(path: Path) -> ParsedDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    zip_check(path, label="DOCX")
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ParseError(f"The DOCX file is damaged or not a Word document ({error}).") from error
    except Exception as error:  # lxml.etree.XMLSyntaxError and the like: a damaged part
        raise ParseError(f"The DOCX file is damaged ({type(error).__name__}: {error}).") from error
    lists = _DocxLists(document)
    sections = Sections()
    blocks: list[Block] = []
    title = str(document.core_properties.title or "").strip()
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            table = _docx_table(item)
            if table:
                blocks.append(Block(table, sections.current, None, "table"))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        if style == "Title" or (style.startswith("Heading") and style[-1:].isdigit()):
            level = 1 if style == "Title" else int(style.split()[-1])
            if level == 1 and not title:
                title = text
            sections.enter(level, text)
            continue
        marker = lists.marker(item, style)
        # Consecutive list items stay one block, so a list is chunked (and quoted) as a list.
        if marker and blocks and blocks[-1].kind == "list" and blocks[-1].section == sections.current:
            blocks[-1] = Block(f"{blocks[-1].text}\n{marker}{text}", sections.current, None, "list")
        else:
            blocks.append(Block(marker + text, sections.current, None, "list" if marker else "text"))
    return ParsedDocument(tuple(blocks), title)


PARSER = Parser(
    label="DOCX",
    extensions=(".docx",),
    mime_types=("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    content="docx",
    parse=lambda path, progress: _parse_docx(path),
)
