"""Scanned images (PNG, JPEG, TIFF, BMP, GIF, WebP): every frame read by OCR (``ocr.py``)."""

from __future__ import annotations

from pathlib import Path

from ingestion.parsers.base import (
    Block,
    ParsedDocument,
    ParseError,
    Parser,
    ProgressCallback,
    Sections,
    blocks_from_lines,
)
from ingestion.parsers.ocr import ocr

IMAGE_MAX_PIXELS = 60_000_000  # a 300 dpi A0 poster; beyond that it is a decompression bomb, not a scan


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
    sections = Sections()
    blocks: list[Block] = []
    for number, frame in enumerate(frames, start=1):
        progress("ocr", (number - 1) / len(frames), f"OCR page {number}/{len(frames)}")
        page = number if len(frames) > 1 else None
        blocks.extend(blocks_from_lines(ocr(frame).splitlines(), sections, page))
    if not blocks:
        raise ParseError("No text was found in the image: OCR read nothing. Upload a clearer scan or a file with text.")
    return ParsedDocument(tuple(blocks), "", tuple(range(1, len(frames) + 1)))


PARSER = Parser(
    label="an image",
    extensions=(".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"),
    mime_types=("image/png", "image/jpeg", "image/tiff", "image/bmp", "image/gif", "image/webp"),
    content="image",
    parse=_parse_image,
)
