"""OCR through pytesseract, which drives Debian's ``tesseract-ocr`` (Spanish + English data): images, and PDF
pages without a text layer (pages with text are never OCRed)."""

from __future__ import annotations

from typing import Any

from ingestion.parsers.base import ParseError

OCR_LANGUAGES = "spa+eng"
OCR_DPI = 300
OCR_MIN_CHARACTERS = 8  # letters or digits; fewer is noise read from a photo or a blank page


def ocr(image: Any) -> str:
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
