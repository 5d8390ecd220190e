"""A question in one language finds the document written in the other: the multilingual embedder's
vectors carry it, and fusion does not bury it under passages in the question's language that BM25 prefers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from ingestion.embed import USE_MODEL_NAME, USEEmbedder, embedder_load, get_embedder
from ingestion.parsers import Block, ParsedDocument
from ingestion.prepare import document_prepare
from ingestion.search.embedded import EmbeddedSearchBackend

PUBLIC = frozenset({"public"})
DEMO = settings.BASE_DIR / "demo"


@pytest.fixture(scope="module")
def use() -> USEEmbedder:
    model = get_embedder() if isinstance(get_embedder(), USEEmbedder) else embedder_load(USE_MODEL_NAME)
    assert isinstance(model, USEEmbedder)
    return model


@pytest.fixture(scope="module")
def demo_index(
    use: USEEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> tuple[EmbeddedSearchBackend, dict[int, str]]:
    """The twelve demo documents (nine Spanish, three English), with the multilingual model's vectors."""
    backend = EmbeddedSearchBackend(tmp_path_factory.mktemp("crosslingual") / "index.sqlite3", embedding_languages=None)
    manifest = json.loads((DEMO / "manifest.json").read_text(encoding="utf-8"))
    stems = {}
    for document_id, item in enumerate(manifest, start=1):
        stem = Path(item["file"]).stem
        text = (DEMO / "sources" / f"{stem}.md").read_text(encoding="utf-8")
        parsed = ParsedDocument(blocks=(Block(text=text),), title=item["title"])
        prepared = document_prepare(
            parsed, document_id=document_id, title=item["title"], principals=PUBLIC, embedder=use
        )
        backend.upsert(document_id, prepared.indexed)
        stems[document_id] = stem
    return backend, stems


def first_documents(
    backend: EmbeddedSearchBackend, stems: dict[int, str], use: USEEmbedder, question: str
) -> list[str]:
    hits = backend.search(question, use.embed([question])[0], principals=PUBLIC, k=10)
    return list(dict.fromkeys(stems[hit.document_id] for hit in hits))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("¿Cómo va a ser mi dirección de correo corporativo?", "onboarding-guide"),
        ("¿Cuál es la dirección de la oficina de Valencia?", "onboarding-guide"),
        ("¿Qué expresiones están prohibidas en la comunicación interna?", "communication-style-guide"),
        ("¿Cuántas veces puedo usar negrita en un mensaje?", "communication-style-guide"),
        ("What is the hotel limit per night in Madrid?", "politica-gastos-viajes"),
        ("Do I have to answer work emails after 7 pm?", "politica-teletrabajo"),
    ],
)
def test_a_question_finds_the_document_in_the_other_language_first(demo_index, use, question, expected):
    backend, stems = demo_index
    assert first_documents(backend, stems, use, question)[0] == expected


def test_without_the_cross_language_path_bm25_buries_it(demo_index, use):
    """The same index searched as if vectors read only English: the Spanish question's English answer
    falls behind Spanish documents that share its words (what fusion did before the cross-language path)."""
    backend, stems = demo_index
    english_only = EmbeddedSearchBackend(backend.path, embedding_languages=frozenset({"en"}))
    ranked = first_documents(english_only, stems, use, "¿Cómo va a ser mi dirección de correo corporativo?")
    assert ranked[0] != "onboarding-guide"
