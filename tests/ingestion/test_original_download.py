"""An uploaded original is served so that it cannot act on Faro's origin: HTML, PDF and DOCX download as
attachments, only raster images and plain text open in place, and every original carries
``Content-Security-Policy: sandbox`` and ``X-Content-Type-Options: nosniff``."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.http import FileResponse
from django.test import Client

from ingestion.models import Document
from tests.conftest import TEST_FILES, VACATION_PDF, index_document
from tests.system_packages import requires_ocr

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("search_index")]

PHISHING = (
    b'<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0;url=https://faro-login.example/">'
    b"</head><body><main><p>Tu sesi\xc3\xb3n de Faro ha caducado: vuelve a entrar.</p>"
    b"<form action=https://faro-login.example/><input name=password type=password>"
    b"<button>Entrar</button></form></main></body></html>"
)


def register(path: Path, owner) -> Document:
    document = index_document(path, title=path.stem, owner=owner)
    assert document.status == Document.Status.INDEXED, document.status_reason
    return document


def download(document: Document, user):
    client = Client()
    client.force_login(user)
    response = client.get(f"/documents/{document.pk}/original/")
    assert response.status_code == 200
    assert isinstance(response, FileResponse)  # streamed from storage, never read into memory
    return response, b"".join(response.streaming_content)


def sandboxed(response) -> bool:
    directives = [part.strip() for part in response["Content-Security-Policy"].split(";")]
    return "sandbox" in directives and response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", ["intranet.html", "aviso.htm"])
def test_html_originals_download_as_attachments_and_never_render_on_the_origin(tmp_path, dana, charlie, name):
    path = tmp_path / name
    path.write_bytes(PHISHING if name == "aviso.htm" else (TEST_FILES / "intranet.html").read_bytes())
    response, body = download(register(path, dana), charlie)
    assert body == path.read_bytes()  # the original, byte for byte
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert sandboxed(response)


@pytest.mark.parametrize(
    ("path", "disposition"),
    [
        (VACATION_PDF, "attachment"),  # PDF viewers may run the file's JavaScript and submit its forms
        (TEST_FILES / "handbook.docx", "attachment"),
        (TEST_FILES / "guide.md", "inline"),
        (TEST_FILES / "notes.txt", "inline"),
        pytest.param(TEST_FILES / "scanned-notice.png", "inline", marks=requires_ocr),
    ],
)
def test_only_images_and_plain_text_open_in_place(path, disposition, dana, charlie):
    response, body = download(register(path, dana), charlie)
    assert body == path.read_bytes()
    assert response["Content-Disposition"] == f'{disposition}; filename="{path.name}"'
    assert sandboxed(response)


def test_text_is_served_as_plain_text_whatever_it_holds(tmp_path, dana, charlie):
    # Markdown may hold raw HTML; it opens as text/plain, and nosniff keeps the browser from guessing HTML.
    path = tmp_path / "guia.md"
    path.write_bytes(b"# Guia\n\n" + PHISHING)
    response, _ = download(register(path, dana), charlie)
    assert response["Content-Type"].split(";")[0] == "text/plain"
    assert response["Content-Disposition"].startswith("inline")
    assert sandboxed(response)


@pytest.mark.parametrize(
    ("content", "charset"), [("Año de solicitud: 2026.\n", "utf-8"), ("Año de solicitud: 2026.\n", "windows-1252")]
)
def test_text_is_served_with_the_charset_it_was_read_with(tmp_path, dana, charlie, content, charset):
    path = tmp_path / "plazos.txt"
    path.write_bytes(content.encode(charset))
    response, body = download(register(path, dana), charlie)
    assert response["Content-Type"] == f"text/plain; charset={charset}"
    assert body.decode(charset) == content
