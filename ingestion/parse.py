"""Stage 1: turn an uploaded file into text blocks with their section path and page.

Libraries, and why:
- **pypdfium2** (PDFium, the engine in Chrome; wheels only) reads PDF text layers fast (~3 ms a page),
  opens password-protected files only with the password, and renders pages to images for OCR.
- **pdfplumber** finds ruled tables and their cells; it is pure Python and ~100x slower than PDFium, so it
  reads only pages that have vector lines or boxes (a table needs them), and turns tables into Markdown.
- **pytesseract** drives Debian's ``tesseract-ocr`` (Spanish + English data) on images and on PDF pages
  without a text layer; pages with text are never OCRed.
- **python-docx** walks paragraphs and tables in document order with their real heading and list styles.
- **BeautifulSoup** (lxml parser) keeps the page's main landmark and only its text: scripts, styles,
  hidden elements, navigation, forms and embedded objects never reach the index.
- **filetype** (pure Python, no libmagic) names what a file really is when its extension lies.

Every failure a person can fix is raised as ``ParseError`` with a readable, specific reason.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PDF_EXTENSIONS = (".pdf",)
DOCX_EXTENSIONS = (".docx",)
HTML_EXTENSIONS = (".html", ".htm")
MARKDOWN_EXTENSIONS = (".md", ".markdown")
TEXT_EXTENSIONS = (".txt",)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")
SUPPORTED_EXTENSIONS = (
    PDF_EXTENSIONS + DOCX_EXTENSIONS + HTML_EXTENSIONS + MARKDOWN_EXTENSIONS + TEXT_EXTENSIONS + IMAGE_EXTENSIONS
)

OCR_LANGUAGES = "spa+eng"
OCR_DPI = 300
IMAGE_MAX_PIXELS = 60_000_000  # a 300 dpi A0 poster; beyond that it is a decompression bomb, not a scan
OCR_MIN_CHARACTERS = 8  # letters or digits; fewer is noise read from a photo or a blank page

# Archives (DOCX is a ZIP): refuse before unpacking anything whose declared sizes are absurd. zipfile
# never returns more bytes than a member declares (it fails the CRC check instead), so declared sizes
# bound the real work.
ZIP_MAX_MEMBERS = 5_000
ZIP_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100  # real DOCX XML compresses ~10x
ZIP_RATIO_FROM_BYTES = 1024 * 1024  # the ratio applies to the whole archive and to each member beyond this size

# "3. Solicitud", "3.2 Plazos", "Section 4 - Returns" style headings in text without markup.
_NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*\.?)\s+[A-ZÁÉÍÓÚÑ¿¡][^\n]{0,60}$")
_MAX_HEADING_WORDS = 9
_RULE = re.compile(r"[=\-_*~#]{3,}")
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MARKDOWN_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
# YAML front matter: a first line of exactly "---", then YAML up to a line "---" or "..." (Jekyll, Hugo,
# MkDocs, Docusaurus). At most this many lines, so a thematic break lower down is never taken for one.
_FRONT_MATTER_OPEN = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
_FRONT_MATTER_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
_FRONT_MATTER_MAX_LINES = 200
_LANGUAGE_TAG = re.compile(r"^([a-z]{2})(?:[-_][a-z0-9]+)*$")

ProgressCallback = Callable[[str, float, str], None]
"""``(stage, fraction done 0..1, detail)``; parsing reports ``parsing`` and ``ocr`` ("OCR page 3/12")."""


def _no_progress(stage: str, fraction: float, detail: str) -> None:
    return None


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


# -- content sniffing -----------------------------------------------------------------------------


def sniff(path: Path) -> str:
    """What the bytes are: ``pdf``, ``docx``, ``zip``, ``image``, ``text``, ``empty`` or ``binary:<name>``."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    if not head:
        return "empty"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return "zip"
        if "word/document.xml" in names:
            return "docx"
        if any(name.startswith(("xl/", "ppt/")) for name in names):
            return "binary:an Excel or PowerPoint file"
        return "zip"
    if _looks_like_text(head):
        return "text"  # before the magic numbers: a text may start with "BM" (a BMP's), "ID3" and so on
    import filetype

    guess = filetype.guess(head)
    if guess is not None:
        if guess.mime.startswith("image/"):
            return "image"
        return f"binary:a {guess.extension.upper()} file"
    if b"\x00" in head:
        return "binary:a binary file"
    return "text"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3:  # a character cut by the 8 KB window
            return True
    controls = sum(byte < 32 and byte not in (9, 10, 12, 13) for byte in head)
    return controls <= len(head) // 100  # another 8-bit encoding (cp1252, latin-1) with few control bytes


_DESCRIPTIONS = {
    "pdf": "a PDF",
    "docx": "a Word (DOCX) document",
    "zip": "a ZIP archive",
    "image": "an image",
    "text": "plain text",
}


def _expected_content(extension: str) -> str:
    if extension in PDF_EXTENSIONS:
        return "pdf"
    if extension in DOCX_EXTENSIONS:
        return "docx"
    if extension in IMAGE_EXTENSIONS:
        return "image"
    return "text"


def parse_file(path: Path, *, original_name: str = "", on_progress: ProgressCallback | None = None) -> ParsedDocument:
    """Read a stored file by its content, checked against its extension."""
    progress = on_progress or _no_progress
    name = original_name or path.name
    extension = Path(name).suffix.lower()
    if extension not in SUPPORTED_EXTENSIONS:
        raise ParseError(
            f"Unsupported file type {extension or '(none)'}; use PDF, DOCX, HTML, Markdown, text or an image."
        )
    content = sniff(path)
    if content == "empty":
        raise ParseError("The file is empty (0 bytes).")
    expected = _expected_content(extension)
    if expected == "docx" and content == "zip":
        raise ParseError("The DOCX file is damaged or not a Word document (a ZIP archive without word/document.xml).")
    if content != expected:
        actual = _DESCRIPTIONS.get(content) or content.removeprefix("binary:")
        raise ParseError(
            f"The file is named {extension} but its content is {actual}: "
            "upload the original file or give it the right extension."
        )
    progress("parsing", 0.0, "")
    if expected == "pdf":
        parsed = _parse_pdf(path, progress)
    elif expected == "docx":
        parsed = _parse_docx(path)
    elif expected == "image":
        parsed = _parse_image(path, progress)
    elif extension in HTML_EXTENSIONS:
        parsed = _parse_html(_read_text(path))
    elif extension in MARKDOWN_EXTENSIONS:
        parsed = _parse_markdown(_read_text(path))
    else:
        parsed = _parse_plain(_read_text(path))
    if not any(block.text.strip() for block in parsed.blocks):
        if parsed.ocr_pages:
            raise ParseError("No text was found: the pages are images and OCR read no text from them.")
        raise ParseError("No text could be extracted from the file.")
    progress("parsing", 1.0, "")
    return parsed


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")  # Windows "ANSI" text, the usual non-UTF-8 office file
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# -- plain lines (text, PDF, OCR) -----------------------------------------------------------------


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


def _blocks_from_lines(lines: Iterable[str], sections: _Sections, page: int | None) -> list[Block]:
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


# -- PDF --------------------------------------------------------------------------------------------

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
                pages.append([("lines", _ocr(image).splitlines())])
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
    sections = _Sections()
    for number, segments in enumerate(pages, start=1):
        for kind, part in segments:
            if kind == "table":
                assert isinstance(part, str)
                if part:
                    yield Block(part, sections.current, number, "table")
                continue
            body = [line for line in part if _normalise_running(line) not in running]
            yield from _blocks_from_lines(body, sections, number)


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


# -- OCR and images ---------------------------------------------------------------------------------


def _ocr(image: Any) -> str:
    import pytesseract

    try:
        text = str(pytesseract.image_to_string(image, lang=OCR_LANGUAGES, config="--psm 3"))
    except pytesseract.TesseractNotFoundError as error:
        raise ParseError(
            "OCR is not available on this server (Debian's tesseract-ocr is not installed); "
            "an administrator can install it and index the document again."
        ) from error
    except pytesseract.TesseractError as error:
        raise ParseError(f"OCR failed on this image ({error.message}).") from error
    if sum(character.isalnum() for character in text) < OCR_MIN_CHARACTERS:
        return ""
    return text


def _parse_image(path: Path, progress: ProgressCallback) -> ParsedDocument:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > IMAGE_MAX_PIXELS:
                raise ParseError(
                    f"The image is {width}×{height} pixels, too large to read ({IMAGE_MAX_PIXELS:,} at most)."
                )
            frames = [frame.convert("L") for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ParseError(f"The image is damaged or in an unsupported format ({error}).") from error
    sections = _Sections()
    blocks: list[Block] = []
    for number, frame in enumerate(frames, start=1):
        progress("ocr", (number - 1) / len(frames), f"OCR page {number}/{len(frames)}")
        page = number if len(frames) > 1 else None
        blocks.extend(_blocks_from_lines(_ocr(frame).splitlines(), sections, page))
    if not blocks:
        raise ParseError("No text was found in the image: OCR read nothing. Upload a clearer scan or a file with text.")
    return ParsedDocument(tuple(blocks), "", tuple(range(1, len(frames) + 1)))


# -- DOCX -------------------------------------------------------------------------------------------


def zip_check(path: Path, *, label: str) -> list[zipfile.ZipInfo]:
    """The archive's members, or ``ParseError`` when it is damaged or would unpack to something absurd."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ParseError(f"The {label} file is damaged or not a {label} ({error}).") from error
    if len(members) > ZIP_MAX_MEMBERS:
        raise ParseError(f"The {label} file holds {len(members):,} files (at most {ZIP_MAX_MEMBERS:,}).")
    total = sum(member.file_size for member in members)
    # The whole archive too: many members just under the threshold must not add up to a bomb.
    inflated = [
        size > ZIP_RATIO_FROM_BYTES and size > ZIP_MAX_RATIO * max(1, compressed)
        for size, compressed in [
            (total, path.stat().st_size),
            *((member.file_size, member.compress_size) for member in members),
        ]
    ]
    if total > ZIP_MAX_UNCOMPRESSED_BYTES or any(inflated):
        raise ParseError(
            f"The {label} file would expand to {total / (1024 * 1024):,.0f} MB when unpacked "
            f"(limit {ZIP_MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB, compression at most {ZIP_MAX_RATIO}:1): "
            "refused as a possible zip bomb."
        )
    return members


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
    sections = _Sections()
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


# -- HTML -------------------------------------------------------------------------------------------

_HTML_DROP = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "form",
    "button", "input", "select", "textarea", "nav", "aside", "dialog", "head",
)  # fmt: skip
_HTML_CHROME = ("header", "footer")  # page chrome when outside the main landmark
_HTML_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"}
_HTML_BLOCKS = {
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "pre", "blockquote",
    "figure", "figcaption", "table", "header", "footer", "address", "details", "summary", "hr", "br",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _html_hidden(element: Any) -> bool:
    attrs = element.attrs or {}
    return (
        "hidden" in attrs
        or str(attrs.get("aria-hidden", "")).lower() == "true"
        or bool(_HIDDEN_STYLE.search(str(attrs.get("style", ""))))
        or str(attrs.get("role", "")).lower() in _HTML_DROP_ROLES
    )


def _parse_html(html: str) -> ParsedDocument:
    from bs4 import BeautifulSoup, Comment, NavigableString, Tag

    soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for comment in soup.find_all(string=lambda text: isinstance(text, Comment)):
        comment.extract()
    for tag in soup(_HTML_DROP):
        tag.decompose()
    for tag in soup.find_all(_html_hidden):
        tag.decompose()
    root: Any = soup.find("main") or soup.find(True, attrs={"role": "main"})
    articles = soup.find_all("article")
    if root is None and len(articles) == 1:
        root = articles[0]
    if root is None:
        root = soup.body or soup
        for tag in root.find_all(_HTML_CHROME):
            tag.decompose()

    sections = _Sections()
    blocks: list[Block] = []
    inline: list[str] = []
    h1 = ""

    def flush(prefix: str = "") -> None:
        text = " ".join(" ".join(inline).split())
        inline.clear()
        if text:
            blocks.append(Block(prefix + text, sections.current))

    def walk(element: Any, list_marker: str = "") -> None:
        nonlocal h1
        for child in element.children:
            if isinstance(child, NavigableString):
                inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name not in _HTML_BLOCKS:
                walk(child, list_marker)
                continue
            flush()
            if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
                text = child.get_text(" ", strip=True)
                if text:
                    sections.enter(int(name[1]), text)
                    if name == "h1" and not h1:
                        h1 = text
            elif name == "table":
                rows = [
                    [cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])]
                    for row in child.find_all("tr")
                ]
                table = markdown_table(rows)
                if table:
                    blocks.append(Block(table, sections.current, None, "table"))
            elif name in ("ul", "ol"):
                for number, item in enumerate(child.find_all("li", recursive=False), start=1):
                    marker = f"{number}. " if name == "ol" else "- "
                    walk(item, marker)
                    flush(marker)
            elif name == "pre":
                text = child.get_text()
                if text.strip():
                    blocks.append(Block(text.strip("\n"), sections.current))
            else:
                walk(child, list_marker)
                flush()

    walk(root)
    flush()
    # Merge consecutive list items into one block so a list stays together in a chunk.
    merged: list[Block] = []
    for block in blocks:
        is_item = bool(re.match(r"^(- |\d+\. )", block.text)) and block.kind == "text"
        if is_item and merged and merged[-1].section == block.section and merged[-1].kind == "list":
            merged[-1] = Block(f"{merged[-1].text}\n{block.text}", block.section, None, "list")
        else:
            merged.append(Block(block.text, block.section, None, "list" if is_item else block.kind))
    return ParsedDocument(tuple(merged), h1 or title)


# -- Markdown and text ------------------------------------------------------------------------------


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
    sections = _Sections()
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


def _parse_plain(text: str) -> ParsedDocument:
    sections = _Sections()
    lines = text.splitlines()
    title = next((line.strip() for line in lines if line.strip()), "")
    return ParsedDocument(tuple(_blocks_from_lines(lines, sections, None)), title)
