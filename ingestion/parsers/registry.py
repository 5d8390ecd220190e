"""The formats Faro reads, and the one answer to "is this file supported" and "parse this file".

Each format is one module of this package declaring a ``Parser`` (its extensions, MIME types, the content its
bytes must show, and its parse function), as paperless-ngx declares one parser per format. Uploads, the
admin's forms, ZIP archives, ``manage.py ingest`` and synced sources all ask ``is_supported``; the worker
calls ``parse_file``. A new format is a new module and one line in ``PARSERS``.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from ingestion.parsers import docx, html, image, markdown, pdf, text
from ingestion.parsers.base import ParsedDocument, ParseError, Parser, ProgressCallback
from ingestion.parsers.sniff import describe, sniff

PARSERS: tuple[Parser, ...] = (pdf.PARSER, docx.PARSER, html.PARSER, markdown.PARSER, text.PARSER, image.PARSER)

_BY_EXTENSION = {extension: parser for parser in PARSERS for extension in parser.extensions}
_BY_MIME_TYPE = {mime_type: parser for parser in PARSERS for mime_type in parser.mime_types}

SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_BY_EXTENSION)


def parser_for(name: str | PurePath) -> Parser | None:
    """The parser for a file named ``name`` (by its extension, in any case), or None."""
    return _BY_EXTENSION.get(PurePath(name).suffix.lower())


def parser_for_mime_type(mime_type: str) -> Parser | None:
    return _BY_MIME_TYPE.get(mime_type.split(";")[0].strip().lower())


def is_supported(name: str | PurePath) -> bool:
    """Whether Faro reads files named ``name`` (a file name or path; only its extension counts)."""
    return parser_for(name) is not None


def _formats() -> str:
    labels = [parser.label for parser in PARSERS]
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def _no_progress(stage: str, fraction: float, detail: str) -> None:
    return None


def parse_file(path: Path, *, original_name: str = "", on_progress: ProgressCallback | None = None) -> ParsedDocument:
    """Read a stored file by its content, checked against its extension (``original_name``'s, else the path's)."""
    progress = on_progress or _no_progress
    name = original_name or path.name
    parser = parser_for(name)
    if parser is None:
        extension = Path(name).suffix.lower()
        raise ParseError(f"Unsupported file type {extension or '(none)'}; use {_formats()}.")
    content = sniff(path)
    if content == "empty":
        raise ParseError("The file is empty (0 bytes).")
    if parser.content == "docx" and content == "zip":
        raise ParseError("The DOCX file is damaged or not a Word document (a ZIP archive without word/document.xml).")
    if content != parser.content:
        raise ParseError(
            f"The file is named {Path(name).suffix.lower()} but its content is {describe(content)}: "
            "upload the original file or give it the right extension."
        )
    progress("parsing", 0.0, "")
    parsed = parser.parse(path, progress)
    if not any(block.text.strip() for block in parsed.blocks):
        if parsed.ocr_pages:
            raise ParseError("No text was found: the pages are images and OCR read no text from them.")
        raise ParseError("No text could be extracted from the file.")
    progress("parsing", 1.0, "")
    return parsed
