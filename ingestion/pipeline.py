"""The pipeline: queue a document, claim it under a lease, parse, prepare (``ingestion/prepare.py``) and write
it, in batches, with every change of a document's state written by one of the named functions below.

Correctness rules the pipeline keeps (tests in tests/ingestion/test_lifecycle.py and friends):
- A run *claims* a document with a lease (one UPDATE: pending, or processing with a stale heartbeat), so
  two workers never index the same version twice, and a duplicate or redelivered task is a no-op.
- Parsing and embedding happen outside transactions; a batch's write is one transaction in which each
  document first re-checks its lease, its chunks and its ``indexed`` state commit together, and the index
  is written last (one index write per batch). Re-queueing (a new version, "Index again") or deleting
  clears the lease, so a run that lost its document to a newer one throws its result away instead of
  writing stale chunks.
- The search backend replaces a document's chunks in one step (``SearchBackend.upsert``), so a search
  sees the old version or the new one, never both or neither; deletion takes the row lock first.
- Failures a person can act on end as ``failed`` with the reason; the original is always kept.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.principals import principals_for_document
from ingestion.chunk import ChunkData
from ingestion.embed import Embedder, get_embedder
from ingestion.models import Chunk, Document
from ingestion.parsers import ParsedDocument, ParseError, parse_file
from ingestion.prepare import (
    EmbedProgress,
    PreparedDocument,
    PrepareInput,
    prepare_assemble,
    prepare_chunks,
    prepare_vectors,
)
from ingestion.progress import progress_publish, progress_report, progress_started
from ingestion.search import IndexedChunk, get_search_backend

logger = logging.getLogger(__name__)


class IngestionError(Exception):
    """A document cannot be indexed for a reason its uploader can act on."""


def document_principals(document: Document) -> frozenset[str]:
    """Who may see the document, as stamped on its chunks."""
    return principals_for_document(
        all_staff=document.all_staff,
        group_ids=document.groups.values_list("pk", flat=True),
        owner_id=document.owner_id,
    )


def size_limit_reason(size: int) -> str | None:
    """Why a file of ``size`` bytes is refused, or None."""
    if size <= settings.UPLOAD_MAX_BYTES:
        return None
    return (
        f"The file is {size / (1024 * 1024):.1f} MB, over the limit of "
        f"{settings.UPLOAD_MAX_BYTES / (1024 * 1024):.0f} MB (UPLOAD_MAX_BYTES)."
    )


# -- a document's state -----------------------------------------------------------------------------
# Every change of status writes the same fields (status, reason, stage, progress, its detail, lease,
# heartbeat), so no state keeps a stage, percent or reason left over from the one before. Within a run,
# ``ingestion.progress.progress_report`` moves the stage and percent of a processing document; a lease is
# otherwise only renewed (``documents_renew_lease``) or revoked before a delete (``document_revoke_lease``).


def _state(
    status: str, stage: str, *, heartbeat_at: datetime | None, reason: str = "", progress: int = 0, lease: str = ""
) -> dict[str, Any]:
    return {
        "status": status,
        "status_reason": reason,
        "stage": stage,
        "progress": progress,
        "progress_detail": "",
        "lease": lease,
        "heartbeat_at": heartbeat_at,
    }


def documents_mark_queued(documents: QuerySet[Document], *, reason: str = "") -> int:
    """Pending and waiting for a claim, under no lease (a run still holding one writes nothing)."""
    return documents.update(
        **_state(Document.Status.PENDING, Document.Stage.QUEUED, reason=reason, heartbeat_at=timezone.now())
    )


def documents_mark_claimed(documents: QuerySet[Document], *, lease: str, now: datetime) -> int:
    return documents.update(
        **_state(Document.Status.PROCESSING, Document.Stage.PARSING, lease=lease, heartbeat_at=now),
        attempts=F("attempts") + 1,
    )


def documents_mark_failed(documents: QuerySet[Document], *, reason: str) -> int:
    """Failed with ``reason``; its chunks count no more (the caller withdraws them from search)."""
    return documents.update(
        **_state(Document.Status.FAILED, Document.Stage.FAILED, reason=reason, heartbeat_at=None), chunk_count=0
    )


def documents_mark_indexed(
    documents: QuerySet[Document], *, title: str, language: str, chunk_count: int, embedding_model: str
) -> int:
    return documents.update(
        **_state(Document.Status.INDEXED, Document.Stage.DONE, progress=100, heartbeat_at=None),
        title=title,
        language=language,
        chunk_count=chunk_count,
        indexed_at=timezone.now(),
        embedding_model=embedding_model[-300:],
    )


def documents_renew_lease(documents: QuerySet[Document]) -> int:
    """A sign of life from the run that holds them: the heartbeat only, the state stays."""
    return documents.update(heartbeat_at=timezone.now())


def document_revoke_lease(document_id: int) -> None:
    """Before the row goes (``document_delete``): a run holding it finds its lease gone and writes nothing."""
    Document.objects.filter(pk=document_id).update(lease="")


# -- queueing ---------------------------------------------------------------------------------------


def document_queue_ingestion(*, document: Document) -> None:
    """Mark the document pending and hand it to a worker once the current transaction commits.

    Clearing the lease makes any run still working on an earlier version discard its result."""
    from ingestion.tasks import ingest_document

    documents_mark_queued(Document.objects.filter(pk=document.pk))
    document.status, document.status_reason, document.stage = Document.Status.PENDING, "", Document.Stage.QUEUED
    document_id = document.pk
    transaction.on_commit(lambda: ingest_document.delay(document_id))
    progress_publish(document_id)


# -- one run ----------------------------------------------------------------------------------------


@dataclass
class _Run:
    document: Document
    lease: str
    parsed: ParsedDocument | None = None


def _claimable(now: datetime) -> Q:
    stale = now - timedelta(seconds=settings.INGESTION_LEASE_SECONDS)
    processing = Q(status=Document.Status.PROCESSING)
    return Q(status=Document.Status.PENDING) | (processing & (Q(heartbeat_at__lt=stale) | Q(heartbeat_at=None)))


def _claim(document_ids: Sequence[int]) -> list[_Run]:
    """Take the documents that are waiting (or whose worker died) under one new lease."""
    lease = uuid.uuid4().hex
    now = timezone.now()
    documents_mark_claimed(Document.objects.filter(pk__in=document_ids).filter(_claimable(now)), lease=lease, now=now)
    claimed = {document.pk: document for document in Document.objects.filter(pk__in=document_ids, lease=lease)}
    progress_started(list(claimed), stage=Document.Stage.PARSING)
    progress_publish(list(claimed))
    return [_Run(claimed[pk], lease) for pk in document_ids if pk in claimed]


def _fail(run: _Run, reason: str) -> None:
    """The run cannot index the document: record why, and withdraw whatever an earlier version left in the
    index (the rule is in ``ingestion.services.document_update``)."""
    logger.info("document %s failed: %s", run.document.pk, reason)
    with transaction.atomic():
        if documents_mark_failed(Document.objects.filter(pk=run.document.pk, lease=run.lease), reason=reason):
            _withdraw(run.document.pk)
    progress_publish(run.document.pk)


def _withdraw(document_id: int) -> None:
    """Take a failed document's chunks out of search and the database (its original stays)."""
    Chunk.objects.filter(document_id=document_id).delete()
    get_search_backend().delete(document_id)


def _release(run: _Run, error: BaseException) -> None:
    """Give the document back (pending) after an unexpected error, so a retry can claim it at once."""
    documents_mark_queued(
        Document.objects.filter(pk=run.document.pk, lease=run.lease),
        reason=f"Retrying after an internal error ({type(error).__name__}).",
    )
    progress_publish(run.document.pk)


def _parse(run: _Run) -> ParsedDocument:
    document = run.document
    path = Path(document.file.path)
    if not path.is_file():
        raise IngestionError("The original file is missing from storage.")
    reason = size_limit_reason(path.stat().st_size)
    if reason:
        raise IngestionError(reason)

    def report(stage: str, fraction: float, detail: str) -> None:
        progress_report(document.pk, stage=stage, percent=fraction * 100, detail=detail)

    parsed = parse_file(path, original_name=document.original_name or path.name, on_progress=report)
    if parsed.title and document.title == Path(document.original_name or path.name).stem:
        # A title that is only the file name gives way to the document's own title.
        document.title = parsed.title[:300]  # saved with the chunks
    return parsed


def _write(run: _Run, prepared: PreparedDocument, embedder: Embedder) -> list[IndexedChunk] | None:
    """Replace the document's chunks in the database and mark it indexed, inside the caller's transaction
    (``_write_batch``), which then writes the returned chunks to the index; None when the run lost its lease
    (a newer version was queued, or the document was deleted) and wrote nothing."""
    document = run.document
    # Written first, so the transaction holds the row (and, on SQLite, the database) from here on.
    if not documents_renew_lease(Document.objects.filter(pk=document.pk, lease=run.lease)):
        logger.info("document %s changed while it was processed; result discarded", document.pk)
        return None
    # The principals as they are now, not as they were when the run started: an access change saved
    # meanwhile (``document_update``) has already re-stamped the old chunks and must hold for the new.
    principals = document_principals(Document.objects.get(pk=document.pk))
    indexed = [replace(chunk, principals=principals) for chunk in prepared.indexed]
    Chunk.objects.filter(document_id=document.pk).delete()
    Chunk.objects.bulk_create(
        Chunk(
            document_id=document.pk,
            chunk_id=chunk.chunk_id,
            ordinal=chunk.ordinal,
            text=chunk.text,
            section=chunk.section,
            page_start=chunk.page_start,
            page_end=chunk.page_end,
        )
        for chunk in prepared.chunks
    )
    documents_mark_indexed(
        Document.objects.filter(pk=document.pk),
        title=document.title,
        language=prepared.language,
        chunk_count=len(prepared.chunks),
        embedding_model=embedder.name,
    )
    return indexed


def _write_batch(runs: Sequence[_Run], prepared: Sequence[PreparedDocument], embedder: Embedder) -> None:
    """Write a batch's documents in one database transaction and one index write: each document's chunks
    and its ``indexed`` state commit together, as before, and the batch costs two commits instead of two
    per document (each a synced write on SQLite). The index is written last, inside the database
    transaction: if it fails, every row of the batch rolls back and its documents are given back."""
    with transaction.atomic():
        written = [(run.document.pk, _write(run, ready, embedder)) for run, ready in zip(runs, prepared, strict=True)]
        indexed = [(pk, chunks) for pk, chunks in written if chunks is not None]
        if indexed:  # every run may have lost its lease
            get_search_backend().upsert_many(indexed)


# -- batches ----------------------------------------------------------------------------------------


@dataclass
class _Batch:
    ids: list[int]
    runs: list[_Run]

    @property
    def live(self) -> list[int]:
        return [run.document.pk for run in self.runs]

    inputs: list[PrepareInput] = field(default_factory=list)
    chunked: list[list[ChunkData]] = field(default_factory=list)
    vectors: Future[np.ndarray] | None = None
    progress: EmbedProgress = field(default_factory=lambda: EmbedProgress(0))


def documents_ingest(
    *,
    document_ids: Sequence[int],
    errors: Literal["raise", "fail"] = "raise",
    on_document: Callable[[Document], None] | None = None,
    embedder: Embedder | None = None,
) -> list[Document]:
    """Run the pipeline for documents and return their final state.

    Documents go in batches (``INGESTION_BATCH_DOCUMENTS``): while one batch is embedded in a background
    thread (pure computation), this thread parses and chunks the next one and writes the previous one,
    so the pipeline costs little beyond the model itself. Documents another run holds (or already indexed
    or failed) are left as they are. Readable failures end as ``failed``; an unexpected error gives the
    document back as pending and is raised (``errors="raise"``, for the task to retry) or recorded as the
    failure reason (``errors="fail"``, for bulk loads). ``embedder``: the process's own unless given (bulk
    loads give ``bulk_embedder``'s)."""
    results: dict[int, Document] = {}
    size = max(1, settings.INGESTION_BATCH_DOCUMENTS)
    unfinished: list[_Batch] = []
    embedder = embedder or get_embedder()

    def settle(batch: _Batch) -> None:
        for document in Document.objects.filter(pk__in=batch.ids):
            results[document.pk] = document
            if on_document is not None:
                on_document(document)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="faro-embed") as executor:
        try:
            for start in range(0, len(document_ids), size):
                batch = _Batch(list(document_ids[start : start + size]), [])
                for run in _claim(batch.ids):
                    _keep_alive(unfinished)
                    if _parse_or_fail(run, errors):
                        batch.runs.append(run)
                if batch.runs:
                    unfinished.append(batch)
                    progress_report(batch.live, stage=Document.Stage.CHUNKING, percent=0, force=True)
                    batch.inputs = [
                        PrepareInput(run.parsed, run.document.pk, run.document.title, document_principals(run.document))
                        for run in batch.runs
                        if run.parsed is not None
                    ]
                    batch.chunked, texts = prepare_chunks(batch.inputs, embedder)
                    batch.progress = EmbedProgress(len(texts))
                    progress_report(batch.live, stage=Document.Stage.EMBEDDING, percent=0, detail="0%", force=True)
                    batch.vectors = executor.submit(prepare_vectors, texts, batch.progress, embedder)
                while len(unfinished) > (1 if batch.runs else 0):  # write the previous batch meanwhile
                    _finish(unfinished[0], embedder)
                    settle(unfinished.pop(0))
                if not batch.runs:
                    settle(batch)
            while unfinished:
                _finish(unfinished[0], embedder)
                settle(unfinished.pop(0))
        except BaseException as error:
            for batch in unfinished:
                if batch.vectors is not None:
                    batch.vectors.cancel()
                for run in batch.runs:
                    _release(run, error)
            raise
    return [results[pk] for pk in document_ids if pk in results]


_last_renewal = 0.0


def _keep_alive(batches: list[_Batch]) -> None:
    """Renew the heartbeat of documents waiting in earlier batches while a long parse (OCR) goes on, so no
    starting worker takes them for abandoned."""
    global _last_renewal
    now = time.monotonic()
    if now - _last_renewal < min(60, settings.INGESTION_LEASE_SECONDS / 4):
        return
    _last_renewal = now
    ids = [pk for batch in batches for pk in batch.live]
    if ids:
        documents_renew_lease(Document.objects.filter(pk__in=ids, status=Document.Status.PROCESSING))


def _parse_or_fail(run: _Run, errors: Literal["raise", "fail"]) -> bool:
    try:
        run.parsed = _parse(run)
        return True
    except (ParseError, IngestionError) as error:
        _fail(run, str(error))
    except Exception as error:
        if errors == "raise":
            _release(run, error)
            raise
        logger.exception("document %s: unexpected error while parsing", run.document.pk)
        _fail(run, f"Internal error while reading the file ({type(error).__name__}: {error}).")
    return False


def _finish(batch: _Batch, embedder: Embedder) -> None:
    """Wait for the batch's vectors (reporting the embedding percent meanwhile), then write each document."""
    assert batch.vectors is not None
    while True:
        try:
            vectors = batch.vectors.result(timeout=1.0)
            break
        except FutureTimeout:
            done = batch.progress.fraction
            progress_report(batch.live, stage=Document.Stage.EMBEDDING, percent=done * 100, detail=f"{done:.0%}")
    live = batch.live
    progress_report(live, stage=Document.Stage.INDEXING, percent=0, force=True)
    _write_batch(batch.runs, prepare_assemble(batch.inputs, batch.chunked, vectors), embedder)
    batch.runs = []  # written: nothing left to give back
    progress_publish(live)


# -- the task's services ----------------------------------------------------------------------------


def document_ingest(*, document_id: int) -> Document:
    """Run the pipeline for one document (the Celery task's service). Idempotent: a document that is not
    waiting (already indexed, failed, or held by a live worker) is returned unchanged."""
    documents = documents_ingest(document_ids=[document_id])
    if not documents:
        raise Document.DoesNotExist(f"document {document_id} does not exist")
    return documents[0]


def document_fail_after_retries(*, document_id: int, error: BaseException) -> None:
    """The last retry failed too: record a readable reason and withdraw the document from search, as any
    failed re-index does (``document_update``); the original stays for "Index again"."""
    with transaction.atomic():
        failed = documents_mark_failed(
            Document.objects.filter(pk=document_id).exclude(status=Document.Status.INDEXED),
            reason=f"Internal error while indexing ({type(error).__name__}); an administrator can retry it.",
        )
        if failed:
            _withdraw(document_id)
    progress_publish(document_id)


def documents_recover_interrupted() -> list[int]:
    """Re-queue documents whose worker died mid-run (stale heartbeat) or whose task was lost while
    pending. Run when a worker starts; a duplicate message is harmless (the claim makes it a no-op)."""
    stale = timezone.now() - timedelta(seconds=settings.INGESTION_LEASE_SECONDS)
    waiting = Q(status__in=[Document.Status.PENDING, Document.Status.PROCESSING]) & (
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at=None)
    )
    ids = list(Document.objects.filter(waiting).values_list("pk", flat=True))
    for document in Document.objects.filter(pk__in=ids):
        with transaction.atomic():
            document_queue_ingestion(document=document)
    if ids:
        logger.info("re-queued %d interrupted documents: %s", len(ids), ids)
    return ids
