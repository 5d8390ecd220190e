"""PDF: **pypdfium2** (PDFium, the engine in Chrome; wheels only) reads text layers fast (~3 ms a page), opens
password-protected files only with the password, and renders pages to images for OCR. **pdfplumber** finds
ruled tables and their cells; it is pure Python and ~100x slower than PDFium, so it reads only pages that
have vector lines or boxes (a table needs them), and turns tables into Markdown."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingestion.parsers.base import (
    Block,
    ParsedDocument,
    ParseError,
    Parser,
    ProgressCallback,
    Sections,
    blocks_from_lines,
    markdown_table,
)
from ingestion.parsers.ocr import OCR_DPI, ocr

logger = logging.getLogger(__name__)

# A page's content in reading order: lines of text, or a Markdown table.
_Segment = tuple[str, list[str] | str]


def _parse_pdf(path: Path, progress: ProgressCallback) -> ParsedDocument:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise ParseError("The PDF is password-protected; upload an unprotected copy.") from error
        raise ParseError(f"The PDF is damaged or not a PDF ({error}).") from error
    plumber: Any = None
    try:
        count = len(pdf)
        if count == 0:
            raise ParseError("The PDF has no pages.")
        title = str(pdf.get_metadata_dict().get("Title") or "").strip()
        pages: list[list[_Segment]] = []
        ocr_pages: list[int] = []
        texts = [_pdf_page_text(pdf[number]) for number in range(count)]
        scanned = [number for number, text in enumerate(texts) if not text.strip()]
        for number, text in enumerate(texts):
            page = pdf[number]
            if number in scanned:
                ocr_pages.append(number + 1)
                progress("ocr", len(ocr_pages) / (len(scanned) + 1), f"OCR page {len(ocr_pages)}/{len(scanned)}")
                image = page.render(scale=OCR_DPI / 72, grayscale=True).to_pil()
                pages.append([("lines", ocr(image).splitlines())])
                continue
            segments: list[_Segment] | None = None
            if _may_hold_a_table(page):
                if plumber is None:
                    import pdfplumber

                    plumber = pdfplumber.open(path)
                try:
                    segments = _plumber_segments(plumber.pages[number])
                except Exception:  # pdfminer chokes on some files PDFium reads: keep the page's plain text
                    logger.warning("table extraction failed on page %d of %s", number + 1, path.name, exc_info=True)
            pages.append(segments or [("lines", text.splitlines())])
            progress("parsing", (number + 1) / count, f"page {number + 1}/{count}")
    except pdfium.PdfiumError as error:
        raise ParseError(f"The PDF is damaged ({error}).") from error
    finally:
        if plumber is not None:
            plumber.close()
        pdf.close()
    return ParsedDocument(tuple(_pdf_blocks(pages)), title, tuple(ocr_pages))


def _pdf_page_text(page: Any) -> str:
    textpage = page.get_textpage()
    try:
        return str(textpage.get_text_range()).replace("\r\n", "\n").replace("\r", "\n")
    finally:
        textpage.close()


def _may_hold_a_table(page: Any) -> bool:
    """A ruled table needs vector lines or boxes; pages without them skip the slow table finder."""
    import pypdfium2 as pdfium

    paths = 0
    for _ in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_PATH], max_depth=2):
        paths += 1
        if paths >= 4:
            return True
    return False


def _plumber_segments(page: Any) -> list[_Segment] | None:
    """Text and Markdown tables of one page in reading order, or None when the page has no real table."""
    tables = []
    for table in page.find_tables():
        rows = table.extract()
        if len(rows) >= 2 and max(len(row) for row in rows) >= 2:
            tables.append((table.bbox, rows))
    if not tables:
        return None
    tables.sort(key=lambda item: item[0][1])
    segments: list[_Segment] = []
    top = 0.0
    for (_left, table_top, _right, table_bottom), rows in tables:
        segments.append(("lines", _band_lines(page, top, table_top)))
        segments.append(("table", markdown_table(rows)))
        top = max(top, table_bottom)
    segments.append(("lines", _band_lines(page, top, float(page.height))))
    return segments


def _band_lines(page: Any, top: float, bottom: float) -> list[str]:
    if bottom - top < 1:
        return []
    band = page.within_bbox((0, max(0.0, top), float(page.width), min(float(page.height), bottom)))
    return str(band.extract_text() or "").splitlines()


def _pdf_blocks(pages: list[list[_Segment]]) -> Iterator[Block]:
    running = _running_lines([[line for kind, part in page if kind == "lines" for line in part] for page in pages])
    sections = Sections()
    for number, segments in enumerate(pages, start=1):
        for kind, part in segments:
            if kind == "table":
                assert isinstance(part, str)
                if part:
                    yield Block(part, sections.current, number, "table")
                continue
            body = [line for line in part if _normalise_running(line) not in running]
            yield from blocks_from_lines(body, sections, number)


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


PARSER = Parser(label="PDF", extensions=(".pdf",), mime_types=("application/pdf",), content="pdf", parse=_parse_pdf)
