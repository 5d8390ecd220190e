"""Every supported format, from the real files in tests/files, goes through the whole pipeline and is found."""

from __future__ import annotations

import pytest

from accounts.principals import PUBLIC
from ingestion.embed import get_embedder
from ingestion.models import Document
from ingestion.search import get_search_backend
from tests.conftest import TEST_FILES, index_document
from tests.system_packages import requires_ocr

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "query", "expected", "section", "page"),
    [
        ("policy-tables.pdf", "plazos de respuesta", "| Hasta 3 días | 5 días |", "3. Solicitud", 2),
        pytest.param(
            "mixed-scan.pdf", "permiso por mudanza", "empadronamiento", "2. Permiso por mudanza", 2, marks=requires_ocr
        ),
        pytest.param(
            "scanned-notice.png", "bloquear la pantalla del puesto", "Bloquea la pantalla", "", None, marks=requires_ocr
        ),
        ("handbook.docx", "horario en Valencia", "| Valencia | 8:30 a 17:30 |", "2. Horario y equipos", None),
        ("intranet.html", "dieta diaria nacional", "53,34 euros", "1. Dietas", None),
        ("guide.md", "aprobación por importe", "| Más de 3.000 EUR |", "1. Umbrales", None),
        ("notes.txt", "horario de limpieza", "19:00", "2. Limpieza", None),
    ],
)  # fmt: skip
def test_every_format_is_indexed_and_cited_where_it_was(search_index, dana, name, query, expected, section, page):
    document = index_document(TEST_FILES / name, title=name.rsplit(".", 1)[0], owner=dana)
    assert document.status == Document.Status.INDEXED, document.status_reason
    hits = get_search_backend().search(query, get_embedder().embed([query])[0], principals=frozenset({PUBLIC}), k=5)
    [hit] = [hit for hit in hits if expected in hit.text][:1]
    assert hit.document_id == document.pk
    assert hit.section.endswith(section) and hit.page_start == page
