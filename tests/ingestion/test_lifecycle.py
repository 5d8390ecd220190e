"""Versions, deletion, idempotent and retry-safe runs, and bad input through the real pipeline."""

from __future__ import annotations

import hashlib
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.principals import PUBLIC
from config.celery import app as celery_app
from ingestion import pipeline, tasks
from ingestion.embed import get_embedder
from ingestion.models import Chunk, Document
from ingestion.pipeline import (
    document_ingest,
    document_queue_ingestion,
    documents_ingest,
    documents_recover_interrupted,
)
from ingestion.search import get_search_backend
from ingestion.services import document_delete, document_new_version, document_register
from ingestion.tasks import ingest_document, retry_countdown
from tests.conftest import TEST_FILES, index_document
from tests.system_packages import requires_ocr

pytestmark = pytest.mark.django_db

EVERYONE = frozenset({PUBLIC})


def policy_file(directory: Path, version: str, sections: int) -> Path:
    """A Markdown policy whose every paragraph names its version (so a hit tells which version it is from)."""
    path = directory / f"politica-{version}.md"
    body = "\n\n".join(
        f"## {n}. Apartado\n\n" + " ".join([f"Norma de teletrabajo {version} número {n}."] * 25)
        for n in range(1, sections + 1)
    )
    path.write_text(f"# Política de teletrabajo\n\n{body}\n", encoding="utf-8")
    return path


def search_texts(query: str, k: int = 50) -> list[str]:
    vector = get_embedder().embed([query])[0]
    return [hit.text for hit in get_search_backend().search(query, vector, principals=EVERYONE, k=k)]


def test_a_new_shorter_version_replaces_every_chunk_in_one_step(search_index, dana, tmp_path):
    document = index_document(policy_file(tmp_path, "versionuno", sections=8), title="Teletrabajo", owner=dana)
    before = document.chunk_count
    assert before >= 8

    seen: list[set[str]] = []
    stop = threading.Event()
    vector = get_embedder().embed(["norma de teletrabajo"])[0]

    def keep_searching() -> None:
        backend = get_search_backend()
        while not stop.is_set():
            hits = backend.search("norma teletrabajo", vector, principals=EVERYONE, k=50)
            seen.append({"uno" if "versionuno" in h.text else "dos" if "versiondos" in h.text else "?" for h in hits})

    reader = threading.Thread(target=keep_searching)
    reader.start()
    try:
        assert document_new_version(document=document, path=policy_file(tmp_path, "versiondos", 1), queue=False)
        Document.objects.filter(pk=document.pk).update(status=Document.Status.PENDING)
        document = document_ingest(document_id=document.pk)
        for _ in range(20):  # a few more searches after the switch
            search_texts("norma")
    finally:
        stop.set()
        reader.join()

    assert document.status == Document.Status.INDEXED and document.version == 2
    assert seen and all(state in ({"uno"}, {"dos"}) for state in seen)  # never both, never neither
    assert seen[-1] == {"dos"}
    assert not any("versionuno" in text for text in search_texts("norma teletrabajo versionuno"))
    assert list(Chunk.objects.filter(document=document).values_list("text", flat=True)) == [
        c.text for c in document.chunks.all()
    ]
    assert document.chunk_count == document.chunks.count() < before
    assert not Chunk.objects.filter(text__contains="versionuno").exists()


def test_an_unchanged_file_is_not_a_new_version(search_index, dana, tmp_path):
    path = policy_file(tmp_path, "versionuno", sections=1)
    document = index_document(path, title="Teletrabajo", owner=dana)
    assert document_new_version(document=document, path=path) is False
    assert Document.objects.get(pk=document.pk).version == 1


def test_deleting_removes_the_document_from_search_at_once_and_keeps_the_original(search_index, dana, tmp_path):
    document = index_document(policy_file(tmp_path, "versionuno", sections=2), title="Teletrabajo", owner=dana)
    original = Path(document.file.path)
    assert search_texts("norma teletrabajo")
    document_delete(document=document)
    assert search_texts("norma teletrabajo") == []
    assert not Chunk.objects.exists()
    assert original.is_file()


def test_a_run_overtaken_by_a_new_version_writes_nothing(search_index, dana, tmp_path, monkeypatch):
    document = document_register(
        path=policy_file(tmp_path, "versionuno", sections=2), title="Teletrabajo", owner=dana, queue=False
    )
    real_assemble = pipeline.prepare_assemble

    def new_version_arrives_meanwhile(*args, **kwargs):
        result = real_assemble(*args, **kwargs)
        document_new_version(document=document, path=policy_file(tmp_path, "versiondos", 1), queue=False)
        document_queue_ingestion(document=document)  # the upload queues the new version
        return result

    monkeypatch.setattr(pipeline, "prepare_assemble", new_version_arrives_meanwhile)
    overtaken = document_ingest(document_id=document.pk)
    assert overtaken.status == Document.Status.PENDING  # left for the newer run
    assert search_texts("norma teletrabajo") == [] and not Chunk.objects.exists()

    monkeypatch.setattr(pipeline, "prepare_assemble", real_assemble)
    current = document_ingest(document_id=document.pk)
    assert current.status == Document.Status.INDEXED
    assert all("versiondos" in text for text in search_texts("norma teletrabajo"))


def test_a_document_deleted_while_it_is_processed_never_reaches_the_index(search_index, dana, tmp_path, monkeypatch):
    document = document_register(
        path=policy_file(tmp_path, "versionuno", sections=2), title="Teletrabajo", owner=dana, queue=False
    )
    real_assemble = pipeline.prepare_assemble

    def deleted_meanwhile(*args, **kwargs):
        result = real_assemble(*args, **kwargs)
        document_delete(document=Document.objects.get(pk=document.pk))
        return result

    monkeypatch.setattr(pipeline, "prepare_assemble", deleted_meanwhile)
    assert documents_ingest(document_ids=[document.pk]) == []
    assert search_texts("norma teletrabajo") == []


def batch_files(tmp_path: Path, dana, count: int) -> list[int]:
    return [
        document_register(
            path=policy_file(tmp_path, f"lote{n}", sections=1), title=f"Lote {n}", owner=dana, queue=False
        ).pk
        for n in range(count)
    ]


def test_a_batch_is_written_in_one_step_and_a_failed_index_write_gives_all_of_it_back(
    search_index, dana, tmp_path, monkeypatch
):
    ids = batch_files(tmp_path, dana, 3)
    backend_class = type(get_search_backend())
    real_upsert_many = backend_class.upsert_many
    writes: list[list[int]] = []

    def index_full(self, documents):
        writes.append([document_id for document_id, _chunks in documents])
        raise RuntimeError("index disk full")

    monkeypatch.setattr(backend_class, "upsert_many", index_full)
    with pytest.raises(RuntimeError):
        documents_ingest(document_ids=ids)
    assert writes == [ids]  # the whole batch in one index write
    # Nothing of the batch committed: every document waits again, with no chunks anywhere.
    assert set(Document.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Document.Status.PENDING}
    assert not Chunk.objects.exists() and search_texts("norma teletrabajo") == []

    monkeypatch.setattr(backend_class, "upsert_many", real_upsert_many)
    assert {document.status for document in documents_ingest(document_ids=ids)} == {Document.Status.INDEXED}
    assert {f"lote{n}" for n in range(3)} <= set(" ".join(search_texts("norma teletrabajo")).split())


def test_a_batch_leaves_out_only_the_document_overtaken_meanwhile(search_index, dana, tmp_path, monkeypatch):
    ids = batch_files(tmp_path, dana, 3)
    real_assemble = pipeline.prepare_assemble

    def second_gets_a_new_version(*args, **kwargs):
        result = real_assemble(*args, **kwargs)
        document = Document.objects.get(pk=ids[1])
        document_new_version(document=document, path=policy_file(tmp_path, "nueva", 1), queue=False)
        document_queue_ingestion(document=document)
        return result

    monkeypatch.setattr(pipeline, "prepare_assemble", second_gets_a_new_version)
    statuses = [document.status for document in documents_ingest(document_ids=ids)]
    assert statuses == [Document.Status.INDEXED, Document.Status.PENDING, Document.Status.INDEXED]
    assert not Chunk.objects.filter(document_id=ids[1]).exists()
    words = set(" ".join(search_texts("norma teletrabajo")).split())
    assert {"lote0", "lote2"} <= words and not {"lote1", "nueva"} & words


def test_running_a_task_twice_indexes_once(search_index, dana):
    document = document_register(path=TEST_FILES / "notes.txt", title="Notas", owner=dana, queue=False)
    assert ingest_document.apply(args=[document.pk]).get() == "indexed"
    first = Document.objects.get(pk=document.pk)
    assert ingest_document.apply(args=[document.pk]).get() == "indexed"  # a redelivered message
    again = Document.objects.get(pk=document.pk)
    assert (again.attempts, again.indexed_at) == (first.attempts, first.indexed_at) == (1, first.indexed_at)
    assert again.chunks.count() == first.chunk_count


def test_a_live_worker_keeps_its_document_and_a_dead_one_loses_it(search_index, dana, monkeypatch):
    document = document_register(path=TEST_FILES / "notes.txt", title="Notas", owner=dana, queue=False)
    Document.objects.filter(pk=document.pk).update(
        status=Document.Status.PROCESSING, lease="other-worker", heartbeat_at=timezone.now()
    )
    assert document_ingest(document_id=document.pk).status == Document.Status.PROCESSING  # not ours
    assert Document.objects.get(pk=document.pk).attempts == 0
    # A task finding it held looks again later (eager retries run at once, here until they run out).
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    assert ingest_document.apply(args=[document.pk]).get() == "processing"
    assert Document.objects.get(pk=document.pk).attempts == 0
    stale = timezone.now() - timedelta(hours=1)
    Document.objects.filter(pk=document.pk).update(heartbeat_at=stale)
    assert documents_recover_interrupted() == [document.pk]
    assert Document.objects.get(pk=document.pk).status == Document.Status.PENDING
    assert document_ingest(document_id=document.pk).status == Document.Status.INDEXED


def test_unexpected_errors_are_retried_with_backoff_then_reported(search_index, dana, monkeypatch):
    assert 8 <= retry_countdown(0) <= 12 and 32 <= retry_countdown(2) <= 48 and retry_countdown(20) <= 720
    countdowns: list[float] = []

    def recorded_countdown(retries: int) -> float:
        countdowns.append(retry_countdown(retries))
        return 0.01

    monkeypatch.setattr(tasks, "retry_countdown", recorded_countdown)
    document = document_register(path=TEST_FILES / "notes.txt", title="Notas", owner=dana, queue=False)
    real_parse = pipeline.parse_file
    failures = iter([RuntimeError("disk hiccup"), RuntimeError("disk hiccup")])

    def flaky(*args, **kwargs):
        error = next(failures, None)
        if error:
            raise error
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(pipeline, "parse_file", flaky)
    # Eager tasks run their retries at once (a worker would wait for the countdown).
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    assert ingest_document.apply(args=[document.pk]).get() == "indexed"
    assert Document.objects.get(pk=document.pk).attempts == 3
    assert len(countdowns) == 2 and countdowns[1] > countdowns[0]

    broken = document_register(path=TEST_FILES / "notes.txt", title="Notas 2", owner=dana, queue=False)
    monkeypatch.setattr(pipeline, "parse_file", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("always")))
    assert ingest_document.apply(args=[broken.pk]).get() == "failed"
    broken.refresh_from_db()
    assert broken.status == Document.Status.FAILED and "Internal error while indexing" in broken.status_reason
    assert broken.attempts == ingest_document.max_retries + 1
    assert Path(broken.file.path).is_file()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("corrupt.pdf", "The PDF is damaged"),
        ("encrypted.pdf", "password-protected"),
        ("empty.txt", "The file is empty"),
        ("zip-bomb.docx", "zip bomb"),
        ("picture-named.pdf", "its content is an image"),
        pytest.param("no-text.png", "No text was found in the image", marks=requires_ocr),
    ],
)
def test_bad_input_fails_with_its_reason_keeps_the_original_and_spares_the_batch(search_index, dana, name, reason):
    bad = document_register(path=TEST_FILES / name, title=name, owner=dana, queue=False)
    good = document_register(path=TEST_FILES / "notes.txt", title="Notas", owner=dana, queue=False)
    bad, good = documents_ingest(document_ids=[bad.pk, good.pk], errors="fail")
    assert bad.status == Document.Status.FAILED and reason in bad.status_reason
    assert bad.stage == Document.Stage.FAILED and bad.chunk_count == 0
    assert Path(bad.file.path).read_bytes() == (TEST_FILES / name).read_bytes()
    assert good.status == Document.Status.INDEXED and good.chunk_count > 0


def test_a_file_over_the_size_limit_is_refused_with_the_limit(search_index, dana, settings, tmp_path):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    path = tmp_path / "grande.txt"
    path.write_text("Texto largo. " * 100_000, encoding="utf-8")
    document = document_ingest(document_id=document_register(path=path, title="Grande", owner=dana, queue=False).pk)
    assert document.status == Document.Status.FAILED
    assert "1.2 MB, over the limit of 1 MB" in document.status_reason


def test_documents_carry_their_metadata(search_index, dana):
    document = document_register(
        path=TEST_FILES / "policy-tables.pdf",
        title="policy-tables",  # only the file name: the PDF's own title replaces it
        owner=dana,
        tags=["rrhh", "vacaciones"],
        effective_date=date(2026, 1, 1),
        queue=False,
    )
    document = document_ingest(document_id=document.pk)
    assert document.title == "Política de vacaciones"
    assert document.language == "es"
    assert (document.owner, document.all_staff, document.version) == (dana, True, 1)
    assert document.tags == ["rrhh", "vacaciones"] and document.effective_date == date(2026, 1, 1)
    assert document.checksum == hashlib.sha256((TEST_FILES / "policy-tables.pdf").read_bytes()).hexdigest()
    assert document.size_bytes == (TEST_FILES / "policy-tables.pdf").stat().st_size
    assert document.embedding_model == get_embedder().name
    english = document_ingest(
        document_id=document_register(path=TEST_FILES / "notes.txt", title="Notes", owner=dana, queue=False).pk
    )
    assert english.language == "es"  # the notes are Spanish too; the guess follows the text, not the title
