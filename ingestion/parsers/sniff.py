"""What a file's bytes are, whatever its name says (``filetype``: pure Python, no libmagic)."""

from __future__ import annotations

import zipfile
from pathlib import Path


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


def describe(content: str) -> str:
    """``sniff``'s answer for a person: "a PDF", "an image", "a PNG file"."""
    return _DESCRIPTIONS.get(content) or content.removeprefix("binary:")
