"""The embedded index under concurrent writes: searches on several threads while other threads delete,
re-version and re-permission documents, in this process and in "another process" (a second backend object on
the same file, as the ingestion worker is). Not one hit may come from a document the searcher may not see.

The documents alternate: even ids are secret (``group:hr`` or ``group:finance``, never anything a public
searcher holds), odd ids churn between ``public`` and ``group:sales``. So a rowid mapped to the wrong row
(the bug this guards against: a snapshot missing a row that the access set still names) lands on a secret
row and shows up as a leak.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ingestion.search import IndexedChunk
from ingestion.search.base import SEARCH_MODES
from ingestion.search.embedded import EmbeddedSearchBackend

WIDTH = 8
DOCUMENTS = 24
CHUNKS = 3
SEARCHERS = 4
SEARCHES_PER_THREAD = 1500  # 6,000 searches beside a stream of writes
PUBLIC_SEARCHER = frozenset({"public", "user:7"})
SALES_SEARCHER = frozenset({"public", "group:sales", "user:8"})
SECRET = (frozenset({"group:hr"}), frozenset({"group:finance"}))
OPEN = (frozenset({"public"}), frozenset({"group:sales"}))


def secret(document_id: int) -> bool:
    return document_id % 2 == 0


def chunks(document_id: int, version: int, principals: frozenset[str]) -> list[IndexedChunk]:
    rng = np.random.default_rng(document_id * 7919 + version)
    result = []
    for ordinal in range(CHUNKS):
        vector = rng.standard_normal(WIDTH).astype(np.float32)
        result.append(
            IndexedChunk(
                chunk_id=f"{document_id}-{version}-{ordinal}",
                document_id=document_id,
                title=f"Documento {document_id}",
                section="",
                text=f"política de vacaciones común, apartado {ordinal}, marca doc{document_id}",
                page_start=None,
                page_end=None,
                language="es",
                principals=principals,
                vector=vector / np.linalg.norm(vector),
            )
        )
    return result


@pytest.fixture
def fine_switching() -> Iterator[None]:
    """Threads switch far more often than the default 5 ms, so more interleavings happen per second."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


def test_searches_never_leak_while_documents_are_deleted_reversioned_and_repermissioned(
    tmp_path: Path, fine_switching: None
) -> None:
    path = tmp_path / "index.sqlite3"
    web = EmbeddedSearchBackend(path, candidates=10)  # the web process: searches and admin writes
    worker = EmbeddedSearchBackend(path, candidates=10)  # the ingestion worker, another process
    for document_id in range(DOCUMENTS):
        web.upsert(document_id, chunks(document_id, 0, (SECRET if secret(document_id) else OPEN)[0]))

    done = threading.Event()
    leaks: list[str] = []
    searches = [0] * SEARCHERS
    overlapped = [0] * SEARCHERS
    writes = [0]
    errors: list[BaseException] = []

    def write(backend: EmbeddedSearchBackend, seed: int) -> None:
        rng = random.Random(seed)
        version = seed * 1_000_000
        try:
            while not done.is_set():
                document_id = rng.randrange(DOCUMENTS)
                choices = SECRET if secret(document_id) else OPEN
                action = rng.random()
                version += 1
                if action < 0.3:
                    backend.delete(document_id)
                    backend.upsert(document_id, chunks(document_id, version, rng.choice(choices)))
                elif action < 0.65:
                    backend.upsert(document_id, chunks(document_id, version, rng.choice(choices)))
                else:
                    backend.set_principals(document_id, rng.choice(choices))
                writes[0] += 1
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
            done.set()

    def search(number: int) -> None:
        rng = np.random.default_rng(number)
        principals = PUBLIC_SEARCHER if number % 2 == 0 else SALES_SEARCHER
        try:
            while searches[number] < SEARCHES_PER_THREAD and not done.is_set():
                before = writes[0]
                vector = rng.standard_normal(WIDTH).astype(np.float32)
                mode = SEARCH_MODES[searches[number] % len(SEARCH_MODES)]
                hits = web.search("vacaciones", vector, principals=principals, k=6, mode=mode)
                for hit in hits:
                    if secret(hit.document_id) or f"doc{hit.document_id}" not in hit.text:
                        leaks.append(f"{sorted(principals)} got {hit.chunk_id}: {hit.text}")
                searches[number] += 1
                overlapped[number] += writes[0] != before
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
            done.set()

    writers = [threading.Thread(target=write, args=(backend, seed)) for seed, backend in ((1, web), (2, worker))]
    readers = [threading.Thread(target=search, args=(number,)) for number in range(SEARCHERS)]
    started = time.monotonic()
    for thread in writers + readers:
        thread.start()
    for thread in readers:
        thread.join(timeout=600)
    done.set()
    for thread in writers:
        thread.join(timeout=60)

    assert not errors, errors
    assert leaks == [], f"{len(leaks)} leaks, first: {leaks[:3]}"
    interleavings = sum(overlapped)
    print(  # shown with -s: the figures behind "thousands of interleavings"
        f"{sum(searches)} searches, {writes[0]} writes, {interleavings} searches overlapped a write,"
        f" {time.monotonic() - started:.1f} s"
    )
    assert sum(searches) == SEARCHERS * SEARCHES_PER_THREAD
    assert interleavings >= 1000, "too few searches ran during a write to prove anything"
