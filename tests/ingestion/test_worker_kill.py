"""A worker killed (SIGKILL) in the middle of a document, then started again, ends with the document
indexed exactly once: the new worker finds the dead worker's stale lease and takes the document over."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import Connection

from ingestion.models import Chunk, Document
from ingestion.services import document_register
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3


def start_worker(broker: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.ingestion.killable_worker_settings",
        "FARO_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "FARO_TEST_BROKER_DIR": str(broker),
        "INGESTION_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    wait_for(lambda: "ready." in log.read_text(errors="replace"), what="the worker to start", timeout=90)
    return worker


def wait_for(condition, *, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def long_policy(directory: Path) -> Path:
    path = directory / "manual-largo.md"
    # Over 50 chunks with either model, so the kill lands mid-document (24 sections made over 50 with MiniLM's
    # WordPiece count, but 48 with the multilingual default's SentencePiece count: two a section).
    sentence = "La norma {n}.{i} de la empresa regula el trabajo diario."
    sections = [f"## {n}. Apartado\n\n" + " ".join(sentence.format(n=n, i=i) for i in range(30)) for n in range(1, 31)]
    path.write_text("# Manual largo\n\n" + "\n\n".join(sections), encoding="utf-8")
    return path


def indexed_chunk_ids(document_id: int) -> list[str]:
    with sqlite3.connect(settings.EMBEDDED_INDEX_PATH) as index:
        return [row[0] for row in index.execute("SELECT chunk_id FROM chunks WHERE document_id = ?", (document_id,))]


def test_a_worker_killed_mid_document_is_replaced_and_the_document_indexed_once(search_index, dana, tmp_path):
    broker, log = tmp_path / "broker", tmp_path / "worker.log"
    document = document_register(path=long_policy(tmp_path), title="Manual largo", owner=dana, queue=False)
    first = start_worker(broker, log)
    try:
        folders = {"data_folder_in": "queue", "data_folder_out": "queue", "control_folder": "control"}
        options = {key: f"{broker}/{folder}" for key, folder in folders.items()}
        from config.celery import app

        with Connection("filesystem://", transport_options=options) as broker_connection:
            app.send_task("ingestion.tasks.ingest_document", args=[document.pk], connection=broker_connection)
        wait_for(
            lambda: Document.objects.get(pk=document.pk).stage == Document.Stage.EMBEDDING,
            what="the worker to start embedding",
            timeout=120,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    interrupted = Document.objects.get(pk=document.pk)
    assert (interrupted.status, interrupted.attempts) == (Document.Status.PROCESSING, 1)
    assert Chunk.objects.filter(document=document).count() == 0

    time.sleep(LEASE_SECONDS + 1)  # the dead worker's heartbeat goes stale
    second = start_worker(broker, log)
    try:
        wait_for(
            lambda: Document.objects.get(pk=document.pk).status == Document.Status.INDEXED,
            what="the new worker to index the document",
            timeout=300,
        )
        time.sleep(2)  # room for a duplicate run to show itself
    finally:
        second.terminate()
        second.wait(timeout=60)

    indexed = Document.objects.get(pk=document.pk)
    assert indexed.attempts == 2  # the interrupted run and the one that finished, nothing more
    chunk_ids = list(Chunk.objects.filter(document=document).values_list("chunk_id", flat=True))
    assert indexed.chunk_count == len(chunk_ids) == len(set(chunk_ids)) > 50
    if settings.SEARCH_BACKEND == "embedded":
        assert sorted(indexed_chunk_ids(document.pk)) == sorted(chunk_ids)
