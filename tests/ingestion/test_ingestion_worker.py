"""The ingestion task through a real Celery worker (in-process thread, real broker: Redis when
REDIS_URL is set, kombu's in-memory transport otherwise) on real PDF and DOCX files."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker

from accounts.principals import PUBLIC
from ingestion.models import Document
from ingestion.services import document_register
from tests.conftest import TELEWORK_DOCX, TEST_FILES, VACATION_PDF

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(search_index: object) -> Iterator[object]:
    from config.celery import app
    from ingestion import tasks  # noqa: F401  (registers the task)

    app.control.purge()  # tasks left on a shared broker by an earlier run are not ours
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30) as running:
        yield running


def wait_until_settled(documents: list[Document], timeout: float = 120) -> list[Document]:
    deadline = time.monotonic() + timeout
    settled = {Document.Status.INDEXED, Document.Status.FAILED}
    while time.monotonic() < deadline:
        current = [Document.objects.get(pk=d.pk) for d in documents]
        if all(d.status in settled for d in current):
            return current
        time.sleep(0.2)
    raise AssertionError(f"not settled: {[(d.title, d.status) for d in current]}")


def test_worker_indexes_pdf_and_docx_and_survives_a_corrupt_pdf(worker, dana):
    corrupt = document_register(path=TEST_FILES / "corrupt.pdf", title="Broken", owner=dana)
    vacation = document_register(path=VACATION_PDF, title="Vacaciones", owner=dana)
    telework = document_register(path=TELEWORK_DOCX, title="Teletrabajo", owner=dana)
    assert corrupt.status == vacation.status == Document.Status.PENDING

    corrupt, vacation, telework = wait_until_settled([corrupt, vacation, telework])

    assert corrupt.status == Document.Status.FAILED
    assert "The PDF is damaged" in corrupt.status_reason
    assert Path(corrupt.file.path).read_bytes() == (TEST_FILES / "corrupt.pdf").read_bytes()  # original kept
    assert corrupt.chunks.count() == 0

    # The documents queued after the failure were processed by the same, still running worker.
    assert vacation.status == telework.status == Document.Status.INDEXED
    assert vacation.language == telework.language == "es"
    assert vacation.chunks.filter(text__contains="23 días laborables", page_start=1).exists()
    assert telework.chunk_count == telework.chunks.count() > 3

    from ingestion.embed import get_embedder
    from ingestion.search import get_search_backend

    query = "¿Cuántos días puedo teletrabajar a la semana?"
    hits = get_search_backend().search(query, get_embedder().embed([query])[0], principals=frozenset({PUBLIC}), k=3)
    assert hits[0].document_id == telework.pk
