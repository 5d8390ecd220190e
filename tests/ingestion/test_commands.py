"""``manage.py ingest`` and ``manage.py reindex`` on real files."""

from __future__ import annotations

import shutil
import sqlite3
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.principals import PUBLIC
from ingestion import bulk as bulk_module
from ingestion import embed
from ingestion.bulk import documents_load_paths, documents_reindex
from ingestion.embed import USE_MODEL_NAME, ProcessEmbedder, get_embedder
from ingestion.models import Document
from ingestion.search import get_search_backend
from tests.conftest import TEST_FILES

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


def indexed_vectors(document_id: int) -> list[bytes]:
    """The vectors the embedded index holds for a document, as stored."""
    with sqlite3.connect(settings.EMBEDDED_INDEX_PATH) as index:
        return [row[0] for row in index.execute("SELECT vector FROM chunks WHERE document_id = ?", (document_id,))]


def test_ingest_indexes_folders_skips_unchanged_files_and_reports_failures(search_index, tmp_path):
    (tmp_path / "sub").mkdir()
    shutil.copy(TEST_FILES / "notes.txt", tmp_path / "notes.txt")
    shutil.copy(TEST_FILES / "guide.md", tmp_path / "sub" / "guide.md")
    shutil.copy(TEST_FILES / "encrypted.pdf", tmp_path / "sub" / "encrypted.pdf")

    shallow = run("ingest", str(tmp_path), "--groups", "hr,finance")
    assert shallow.splitlines()[0] == "indexed 1, skipped unchanged 0, failed 0"  # not recursive: notes.txt only

    output = run("ingest", str(tmp_path), "--recursive", "--groups", "hr,finance", "--tags", "compras")
    assert output.splitlines()[0] == "indexed 1, skipped unchanged 1, failed 1"
    assert "encrypted.pdf: The PDF is password-protected" in output
    guide = Document.objects.get(original_name="guide.md")
    assert guide.title == "Guía de compras" and guide.tags == ["compras"] and not guide.all_staff
    assert set(guide.groups.values_list("name", flat=True)) == {"hr", "finance"}

    (tmp_path / "notes.txt").write_text("Notas nuevas\n\n1. Horario\nAbre a las 7:00.\n", encoding="utf-8")
    again = run("ingest", str(tmp_path / "notes.txt"))
    assert again.splitlines()[0] == "indexed 1, skipped unchanged 0, failed 0"
    notes = Document.objects.get(source=str((tmp_path / "notes.txt").resolve()))
    assert notes.version == 2 and any("7:00" in chunk.text for chunk in notes.chunks.all())
    assert Document.objects.count() == 3


def test_ingest_refuses_missing_paths(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not found"):
        run("ingest", str(tmp_path / "nope.pdf"))


def test_reindex_rebuilds_from_the_stored_originals(search_index, tmp_path):
    shutil.copy(TEST_FILES / "notes.txt", tmp_path / "notes.txt")
    run("ingest", str(tmp_path))
    document = Document.objects.get()
    Document.objects.update(embedding_model="an-older-model")
    backend = get_search_backend()
    assert run("reindex").splitlines()[0] == "reindexed 1 of 1, failed 0"
    assert run("reindex").splitlines()[0] == "reindexed 0 of 0, failed 0"  # nothing stale now

    backend.clear()  # e.g. a new, empty index
    assert run("reindex", "--all").splitlines()[0] == "reindexed 1 of 1, failed 0"
    query = "horario de la oficina"
    hits = backend.search(query, get_embedder().embed([query])[0], principals=frozenset({PUBLIC}), k=5)
    assert {hit.document_id for hit in hits} == {document.pk}
    assert Document.objects.get().status == Document.Status.INDEXED


def _state(path) -> tuple[str, str, int, str, bool]:
    document = Document.objects.get(source=str(path.resolve()))
    return document.status, document.stage, document.progress, document.status_reason, document.heartbeat_at is not None


def test_a_changed_file_waits_as_queued_not_as_its_last_run_left_it(search_index, tmp_path):
    """``ingest`` of a changed file queues its new version like an upload does: pending, queued, 0 %, no reason,
    a fresh heartbeat (it kept the indexed version's "done", 100 % and no heartbeat until claimed)."""
    notes, other = tmp_path / "notes.txt", tmp_path / "hoja.xlsx"
    shutil.copy(TEST_FILES / "notes.txt", notes)
    other.write_text("no")
    documents_load_paths(paths=[notes], owner=None)
    assert _state(notes) == ("indexed", "done", 100, "", False)
    notes.write_text("Notas nuevas\n\n1. Horario\nAbre a las 7:00.\n", encoding="utf-8")
    seen: list[tuple[str, str, int, str, bool]] = []

    def registered(name: str) -> None:  # the .xlsx is refused right after notes.txt is registered
        if name.endswith("hoja.xlsx"):
            seen.append(_state(notes))

    summary = documents_load_paths(paths=[notes, other], owner=None, on_file=registered)
    assert seen == [("pending", "queued", 0, "", True)]
    assert len(summary.indexed) == 1 and _state(notes)[:3] == ("indexed", "done", 100)


def test_reindex_queues_each_document_at_0_percent(search_index, tmp_path, settings):
    settings.INGESTION_BATCH_DOCUMENTS = 1
    paths = []
    for number in range(3):
        paths.append(tmp_path / f"nota{number}.txt")
        paths[-1].write_text(f"Nota {number}\n\n1. Horario\nAbre a las {number + 7}:00.\n", encoding="utf-8")
    documents_load_paths(paths=paths, owner=None)
    seen: list[tuple[str, str, int, str, bool]] = []

    def settled(document: Document) -> None:  # batches overlap: when the first is written, the last waits
        if not seen:
            seen.append(_state(paths[-1]))

    documents_reindex(everything=True, on_document=settled)
    assert seen == [("pending", "queued", 0, "", True)]


def test_a_data_folder_indexed_with_the_old_default_is_re_embedded_before_serving(search_index, tmp_path, monkeypatch):
    """Issue 14 changed the default model: a folder someone indexed with all-MiniLM-L6-v2 (384 dimensions)
    holds vectors a multilingual question (512) cannot be compared with. ``make run`` reindexes such
    documents before serving (``reindex --model-changed``); a failed document is left for ``reindex``.
    (Run with ``EMBEDDING_MODEL=all-MiniLM-L6-v2``, the folder was indexed with the multilingual model.)"""
    from config.settings import ENGLISH_EMBEDDING_MODEL, _embedding_model
    from ingestion import pipeline
    from ingestion.embed import USE_MODEL_NAME, USEEmbedder, embedder_load

    current = get_embedder()
    other = _embedding_model(ENGLISH_EMBEDDING_MODEL) if isinstance(current, USEEmbedder) else USE_MODEL_NAME
    old = embedder_load(other)
    assert old.name != current.name and old.dimension != current.dimension
    shutil.copy(TEST_FILES / "notes.txt", tmp_path / "notes.txt")
    shutil.copy(TEST_FILES / "encrypted.pdf", tmp_path / "encrypted.pdf")
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "get_embedder", lambda: old)  # the folder as the old default left it
        run("ingest", str(tmp_path))
    notes = Document.objects.get(original_name="notes.txt")
    assert (notes.status, notes.embedding_model) == (Document.Status.INDEXED, old.name[-300:])
    assert Document.objects.get(original_name="encrypted.pdf").status == Document.Status.FAILED

    makefile = (TEST_FILES.parents[1] / "Makefile").read_text(encoding="utf-8")
    run_target = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert run_target.index("reindex --model-changed") < run_target.index("load_demo")
    assert run("reindex", "--model-changed").splitlines()[0] == "reindexed 1 of 1, failed 0"
    assert run("reindex", "--model-changed").splitlines()[0] == "reindexed 0 of 0, failed 0"
    notes.refresh_from_db()
    assert notes.embedding_model == current.name[-300:]
    assert {len(vector) for vector in indexed_vectors(notes.pk)} == {4 * current.dimension}  # float32, new model
    query = "¿A qué hora abre la oficina?"
    hits = search_index.search(query, current.embed([query])[0], principals=frozenset({PUBLIC}), k=5, mode="dense")
    assert [hit.document_id for hit in hits][:1] == [notes.pk] and hits[0].score > 0
    assert Document.objects.get(original_name="encrypted.pdf").status == Document.Status.FAILED


def test_a_load_of_several_batches_encodes_in_a_process_into_the_same_vectors(search_index, tmp_path, monkeypatch):
    if settings.EMBEDDING_MODEL != USE_MODEL_NAME:
        pytest.skip("only the multilingual model encodes in a process")
    monkeypatch.setattr(settings, "INGESTION_BATCH_DOCUMENTS", 1)
    paths = []
    for number in range(3):
        paths.append(tmp_path / f"nota{number}.txt")
        paths[-1].write_text(f"Nota {number}\n\n1. Horario\nAbre a las {number + 7}:00.\n", encoding="utf-8")
    chosen: list[object] = []

    def spy(*, documents: int) -> ProcessEmbedder | None:
        chosen.append(embed.bulk_embedder(documents=documents))
        return chosen[-1]  # type: ignore[return-value]

    with monkeypatch.context() as patch:
        patch.setattr(bulk_module, "bulk_embedder", spy)
        summary = documents_load_paths(paths=paths, owner=None)
    assert [type(embedder) for embedder in chosen] == [ProcessEmbedder]
    assert len(summary.indexed) == 3 and not summary.failed
    in_child = {document.pk: indexed_vectors(document.pk) for document in summary.indexed}

    monkeypatch.setattr(bulk_module, "bulk_embedder", lambda *, documents: None)
    documents_reindex(everything=True)  # every document again, encoded in this process
    assert {pk: indexed_vectors(pk) for pk in in_child} == in_child
