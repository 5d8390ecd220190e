from __future__ import annotations

import codecs
from pathlib import Path

from django.http import FileResponse, HttpResponse
from django.shortcuts import render

from accounts.gates import AuthenticatedHttpRequest, chat_required
from ingestion.models import Document
from ingestion.selectors import access_document
from ingestion.viewer import viewer_blocks


@chat_required
def document_detail(request: AuthenticatedHttpRequest, document_id: int) -> HttpResponse:
    document = access_document(request.user, document_id)
    highlight = request.GET.get("chunk", "")
    blocks = viewer_blocks(list(document.chunks.all()), highlight=highlight)
    context = {
        "document": document,
        "blocks": blocks,
        # A new version waits for the worker: what is shown (and cited) is the version search still serves.
        "updating": document.status != Document.Status.INDEXED,
        # Chunk ids are content hashes: a cited passage missing here was changed by a newer version.
        "cited_passage_gone": bool(highlight) and not any(block.highlight for block in blocks),
    }
    return render(request, "ingestion/document_detail.html", context)


# Originals a browser may show in place, by the type they are served as: raster images and plain text can
# neither run script nor navigate. Everything else downloads: HTML can redirect and draw a fake sign-in form
# on Faro's origin, and PDF viewers may run a file's JavaScript and submit its forms. Markdown is shown as
# plain text (it may hold raw HTML). Tests: tests/ingestion/test_original_download.py.
_INLINE_TYPES = {
    ".txt": "text/plain",
    ".md": "text/plain",
    ".markdown": "text/plain",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
}
# Whatever an original is, the browser treats it as a unique opaque origin with no script, forms, popups or
# top-level navigation, and never sniffs a type other than the one declared.
_ORIGINAL_POLICY = "sandbox; default-src 'none'"


@chat_required
def document_download(request: AuthenticatedHttpRequest, document_id: int) -> FileResponse:
    document = access_document(request.user, document_id)
    inline_type = _INLINE_TYPES.get(Path(document.original_name).suffix.lower())
    if inline_type == "text/plain":
        inline_type = f"text/plain; charset={_text_charset(document)}"
    response = FileResponse(
        document.file.open("rb"), as_attachment=inline_type is None, filename=document.original_name
    )
    if inline_type:
        response["Content-Type"] = inline_type
    response["Content-Security-Policy"] = _ORIGINAL_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _text_charset(document: Document) -> str:
    """UTF-8 when the whole file decodes as UTF-8, else Windows "ANSI" (what ingestion.parsers reads it as):
    without a charset, browsers guess, and Spanish UTF-8 text came out as "Ã¡rbol"."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with Path(document.file.path).open("rb") as handle:
        try:
            for block in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "windows-1252"
    return "utf-8"
