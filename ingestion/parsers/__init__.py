"""Stage 1: turn an uploaded file into text blocks with their section path and page.

One module per format (``pdf``, ``docx``, ``html``, ``markdown``, ``text``, ``image``), each declaring its
``Parser``; ``registry`` holds them and answers "is this file supported" and "parse this file". Shared
pieces: ``base`` (blocks, errors, plain-line reading), ``sniff`` (what the bytes really are), ``ocr``,
``zipfiles`` (the ZIP-bomb check a DOCX and an uploaded archive both get). Every failure a person can fix is
raised as ``ParseError`` with a readable, specific reason.
"""

from ingestion.parsers.base import Block, ParsedDocument, ParseError, Parser, ProgressCallback
from ingestion.parsers.registry import (
    PARSERS,
    SUPPORTED_EXTENSIONS,
    is_supported,
    parse_file,
    parser_for,
    parser_for_mime_type,
)

__all__ = [
    "PARSERS",
    "SUPPORTED_EXTENSIONS",
    "Block",
    "ParseError",
    "ParsedDocument",
    "Parser",
    "ProgressCallback",
    "is_supported",
    "parse_file",
    "parser_for",
    "parser_for_mime_type",
]
