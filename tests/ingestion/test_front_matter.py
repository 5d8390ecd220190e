"""Real handbooks read cleanly: Markdown front matter is metadata (title, language, description), never
text; a page's language is its body's, not its opening quotation's; a document is cited by its title."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.principals import PUBLIC
from ingestion.archive import UploadItem
from ingestion.embed import get_embedder
from ingestion.language import detect_majority_language
from ingestion.models import Chunk, Document
from ingestion.parsers import parse_file
from ingestion.parsers.markdown import front_matter
from ingestion.pipeline import document_ingest
from ingestion.search import get_search_backend
from ingestion.services import documents_register_upload
from tests.conftest import index_document

# The shape of every page of the Spanish handbook: front matter, no H1, the text.
SPANISH_PAGE = """---
title: Los búnkeres de la oficina
lang: es-ES
description: Dónde está cada zona de trabajo silencioso y cómo reservarla.
---

La oficina tiene tres búnkeres: salas pequeñas sin ventanas para trabajar sin interrupciones. Se reservan
desde el calendario compartido con un máximo de dos horas seguidas por persona y día.

Si un búnker está reservado y nadie lo ocupa a los quince minutos, cualquiera puede usarlo.
"""

# A short Spanish page that opens with an English epigraph longer than any one of its paragraphs.
EPIGRAPH_PAGE = """---
title: Por qué escribimos
---

> "Writing is nature's way of letting you know how sloppy your thinking is, and we would rather find
> that out on paper than in front of a client."

Escribimos antes de decidir. Cada propuesta empieza como un documento breve que cualquiera puede
comentar durante una semana.

Las decisiones se apuntan al final del documento, con la fecha y el nombre de quien decide.
"""


def test_front_matter_fields_become_metadata_and_leave_the_text(tmp_path: Path):
    path = tmp_path / "04-the-office__4-bunkers.md"
    path.write_text(SPANISH_PAGE, encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.title == "Los búnkeres de la oficina"
    assert parsed.language == "es"
    assert parsed.description == "Dónde está cada zona de trabajo silencioso y cómo reservarla."
    assert "title:" not in parsed.text and "---" not in parsed.text and "description" not in parsed.text
    assert parsed.text.startswith("La oficina tiene tres búnkeres")


@pytest.mark.parametrize(
    ("markdown", "fields", "body"),
    [
        ("---\ntitle: A\n---\nText", {"title": "A"}, "Text"),
        ("\ufeff---\r\ntitle: A\r\n...\r\nText", {"title": "A"}, "Text"),
        ("---\n: not [yaml\n---\nText", {}, "Text"),  # unreadable front matter is still not text
        ("---\n- a list\n---\nText", {}, "Text"),
        ("Text\n\n---\n\nMore", {}, "Text\n\n---\n\nMore"),  # a thematic break lower down is text
        ("---\nno closing line\n", {}, "---\nno closing line\n"),
    ],
)  # fmt: skip
def test_front_matter_shapes(markdown, fields, body):
    assert front_matter(markdown) == (fields, body)


def test_the_body_majority_decides_the_language_not_the_opening_quotation():
    blocks = [
        "> Writing is nature's way of letting you know how sloppy your thinking is, and we would rather find it out.",
        "Escribimos antes de decidir.",
        "Las decisiones se apuntan al final.",
    ]
    assert detect_majority_language(blocks) == "es"
    assert detect_majority_language(["Only an English quotation here.".join(["> ", ""])]) == "en"
    assert detect_majority_language(["Un párrafo en español con bastantes palabras.", "A short English line."]) == "es"


@pytest.mark.django_db
def test_a_handbook_page_is_indexed_in_its_language_cited_by_its_title_without_front_matter(
    search_index, dana, tmp_path: Path
):
    bunkers = tmp_path / "04-the-office__4-bunkers.md"
    bunkers.write_text(SPANISH_PAGE, encoding="utf-8")
    epigraph = tmp_path / "01-culture__why-we-write.md"
    epigraph.write_text(
        EPIGRAPH_PAGE.replace("title: Por qué escribimos\n", "title: Por qué escribimos\nauthor: x\n"), encoding="utf-8"
    )
    # As a bulk upload names them: the title is the file name until the document's own title is read.
    summary = documents_register_upload(
        items=[UploadItem(path=bunkers, name=bunkers.name), UploadItem(path=epigraph, name=epigraph.name)],
        owner=dana,
        all_staff=True,
    )
    documents = [document_ingest(document_id=document.pk) for document in summary.documents]
    assert [d.status for d in documents] == [Document.Status.INDEXED] * 2, [d.status_reason for d in documents]
    assert [d.title for d in documents] == ["Los búnkeres de la oficina", "Por qué escribimos"]
    assert [d.language for d in documents] == ["es", "es"]
    for document in documents:
        texts = list(Chunk.objects.filter(document=document).values_list("text", flat=True))
        assert texts and not any("title:" in text or "---" in text for text in texts)
    query = "reservar un búnker"
    hits = get_search_backend().search(query, get_embedder().embed([query])[0], principals=frozenset({PUBLIC}), k=3)
    assert hits[0].document_id == documents[0].pk
    assert hits[0].title == "Los búnkeres de la oficina"


@pytest.mark.django_db
def test_without_front_matter_the_heading_still_names_the_document(search_index, dana, tmp_path: Path):
    page = tmp_path / "notes.md"
    page.write_text("# Normas de la cocina\n\nLa cocina se limpia cada viernes por turnos.\n", encoding="utf-8")
    document = index_document(page, title="notes", owner=dana)
    assert document.title == "Normas de la cocina"
