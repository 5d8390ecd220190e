"""The ingestion task through a real Celery worker (in-process thread, real broker: Redis when
REDIS_URL is set, kombu's in-memory transport otherwise) on real PDF and DOCX files."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.principals import PUBLIC
from ingestion.models import Document
from ingestion.services import document_register
from tests.conftest import TELEWORK_DOCX, TEST_FILES, VACATION_PDF, wait_until_settled

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


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
