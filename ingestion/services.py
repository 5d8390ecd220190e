"""Document lifecycle: register an upload, run the pipeline (parse -> chunk -> embed -> index), delete.

Correctness rules the pipeline keeps (tests in tests/ingestion/test_lifecycle.py and friends):
- A run *claims* a document with a lease (one UPDATE: pending, or processing with a stale heartbeat), so
  two workers never index the same version twice, and a duplicate or redelivered task is a no-op.
- Parsing and embedding happen outside transactions; the write is one transaction that first re-checks
  the lease. Re-queueing (a new version, "Index again") or deleting clears the lease, so a run that lost
  its document to a newer one throws its result away instead of writing stale chunks.
- The search backend replaces a document's chunks in one step (``SearchBackend.upsert``), so a search
  sees the old version or the new one, never both or neither; deletion takes the row lock first.
- Failures a person can act on end as ``failed`` with the reason; the original is always kept.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from accounts.principals import principals_for_document
from governance.audit import audit_record
from ingestion.archive import UploadItem, archive_expand
from ingestion.chunk import ChunkData, chunk_document, embedding_text
from ingestion.embed import Embedder, get_embedder
from ingestion.language import detect_majority_language
from ingestion.models import Chunk, Document
from ingestion.parsers import ParsedDocument, ParseError, is_supported, parse_file
from ingestion.progress import progress_publish, progress_report, progress_started
from ingestion.search import IndexedChunk, get_search_backend

logger = logging.getLogger(__name__)

_EMBED_STEP = 64  # texts per embedding call between two progress reports


class IngestionError(Exception):
    """A document cannot be indexed for a reason its uploader can act on."""


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def document_principals(document: Document) -> frozenset[str]:
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


# -- registering and queueing -----------------------------------------------------------------------


def document_queue_ingestion(*, document: Document) -> None:
    """Mark the document pending and hand it to a worker once the current transaction commits.

    Clearing the lease makes any run still working on an earlier version discard its result."""
    from ingestion.tasks import ingest_document

    Document.objects.filter(pk=document.pk).update(
        status=Document.Status.PENDING,
        status_reason="",
        stage=Document.Stage.QUEUED,
        progress=0,
        progress_detail="",
        lease="",
        heartbeat_at=timezone.now(),
    )
    document.status, document.status_reason, document.stage = Document.Status.PENDING, "", Document.Stage.QUEUED
    document_id = document.pk
    transaction.on_commit(lambda: ingest_document.delay(document_id))
    progress_publish(document_id)


def _store_original(document: Document, path: Path, name: str) -> None:
    with path.open("rb") as handle:
        document.file.save(name, File(handle), save=False)
    document.original_name = name
    document.checksum = file_checksum(path)
    document.size_bytes = path.stat().st_size


@transaction.atomic
def document_register(
    *,
    path: Path,
    title: str,
    owner: User | None,
    all_staff: bool = True,
    groups: Iterable[Group] = (),
    tags: Sequence[str] = (),
    effective_date: date | None = None,
    source: str = "",
    original_name: str | None = None,
    queue: bool = True,
) -> Document:
    """Store a copy of the file as the document's original and (by default) queue it for ingestion."""
    name = original_name or path.name
    document = Document(
        title=title or Path(name).stem,
        owner=owner,
        all_staff=all_staff,
        tags=list(tags),
        effective_date=effective_date,
        source=source,
    )
    _store_original(document, path, name)
    document.save()
    document.groups.set(list(groups))
    audit_record(
        event_type="document.upload",
        actor=owner,
        object_type="document",
        object_id=document.pk,
        data={
            "title": document.title,
            "checksum": document.checksum,
            "principals": sorted(document_principals(document)),
        },
    )
    if queue:
        document_queue_ingestion(document=document)
    return document


@transaction.atomic
def document_new_version(
    *,
    document: Document,
    path: Path,
    original_name: str | None = None,
    actor: User | None = None,
    queue: bool = True,
) -> bool:
    """Store a new original for the document and re-index it; False (nothing done) when unchanged.

    The previous version stays searchable until the new one replaces it in one step."""
    if file_checksum(path) == document.checksum:
        return False
    _store_original(document, path, original_name or path.name)
    document.version = F("version") + 1
    document.save(update_fields=["file", "original_name", "checksum", "size_bytes", "version", "updated_at"])
    document.refresh_from_db(fields=["version"])
    audit_record(
        event_type="document.new_version",
        actor=actor,
        object_type="document",
        object_id=document.pk,
        data={"version": document.version, "checksum": document.checksum},
    )
    if queue:
        document_queue_ingestion(document=document)
    return True


@transaction.atomic
def document_update(
    *,
    document: Document,
    actor: User | None,
    title: str,
    all_staff: bool,
    groups: Iterable[Group],
    tags: Sequence[str] = (),
    effective_date: date | None = None,
    path: Path | None = None,
    original_name: str | None = None,
) -> Document:
    """Save an edit of a document (the admin's change form) as one action: its fields, its access, and, when
    ``path`` is given, a new version of its original.

    When an access change takes effect: when this transaction commits, whatever else changes. The new
    principals are stamped on the indexed chunks as it commits (``document_access_changed``), before a new
    version or title is handed to the worker, so the index never waits for the worker to learn who may see
    the document, and a change that rolls back never reaches it. The rule for a document that is not (yet)
    servable in its new form:

    - while its new version or new title waits for the worker (pending or processing), the *previous*
      version keeps being served, under the *new* principals;
    - if that re-index fails, the document is withdrawn from search (``_fail``) until a working file is
      indexed: nobody is served text that is neither the stored original nor what the admin chose.

    The worker stamps the principals it reads inside its own write (``_write``), so a run that prepared its
    chunks before this change cannot bring the old principals back. Tested in
    tests/ingestion/test_admin_access_edit.py and tests/test_permissions_property.py.
    """
    # The row lock orders this edit with a worker's write of the same document (see ``_write``).
    current = Document.objects.select_for_update().get(pk=document.pk)
    before = document_principals(current)
    reindex = title != current.title  # the title is part of every chunk and of its embedding
    current.title, current.all_staff = title, all_staff
    current.tags, current.effective_date = list(tags), effective_date
    current.save(update_fields=["title", "all_staff", "tags", "effective_date", "updated_at"])
    current.groups.set(list(groups))
    if document_principals(current) != before:
        document_access_changed(document=current, actor=actor)
    if path is not None and document_new_version(
        document=current, path=path, original_name=original_name, actor=actor, queue=False
    ):
        reindex = True
    if reindex:
        document_queue_ingestion(document=current)
    return current


@dataclass
class UploadSummary:
    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)


def documents_register_upload(
    *,
    items: Sequence[UploadItem],
    owner: User | None,
    all_staff: bool,
    groups: Iterable[Group] = (),
    tags: Sequence[str] = (),
    effective_date: date | None = None,
) -> UploadSummary:
    """Bulk upload: register every file (ZIP archives are expanded) and queue each for ingestion.

    Each document is registered in its own transaction, so one bad file never loses the others."""
    summary = UploadSummary()
    group_list = list(groups)
    with tempfile.TemporaryDirectory(prefix="faro-upload-") as scratch:
        queue: list[UploadItem] = []
        for item in items:
            if item.name.lower().endswith(".zip"):
                expanded, skipped = archive_expand(item.path, Path(scratch), name=item.name)
                queue.extend(expanded)
                summary.skipped.extend(skipped)
            elif is_supported(item.name):
                queue.append(item)
            else:
                summary.skipped.append((item.name, f"Unsupported file type {Path(item.name).suffix or '(none)'}."))
        for item in queue:
            summary.documents.append(
                document_register(
                    path=item.path,
                    title=Path(item.name).stem,
                    owner=owner,
                    all_staff=all_staff,
                    groups=group_list,
                    tags=tags,
                    effective_date=effective_date,
                    original_name=item.name,
                )
            )
    return summary


# -- preparing: chunk, detect language, embed ------------------------------------------------------


@dataclass(frozen=True)
class PreparedDocument:
    chunks: list[ChunkData]
    indexed: list[IndexedChunk]
    language: str


@dataclass(frozen=True)
class _PrepareInput:
    parsed: ParsedDocument
    document_id: int
    title: str
    principals: frozenset[str]


def document_prepare(
    parsed: ParsedDocument,
    *,
    document_id: int,
    title: str,
    principals: frozenset[str],
    embedder: Embedder | None = None,
) -> PreparedDocument:
    """Chunk, detect the language and embed: everything between parsing and indexing. Uploads, bulk
    loads and the retrieval evaluation all go through here, so what is measured is what is served.
    ``embedder``: the configured one unless given (the evaluation passes its caching wrapper)."""
    inputs = [_PrepareInput(parsed, document_id, title, principals)]
    return _documents_prepare(inputs, embedder or get_embedder())[0]


def _documents_prepare(inputs: Sequence[_PrepareInput], embedder: Embedder) -> list[PreparedDocument]:
    chunked, texts = _chunk(inputs, embedder)
    return _assemble(inputs, chunked, _embed(texts, _EmbedProgress(len(texts)), embedder))


def _chunk(
    inputs: Sequence[_PrepareInput], embedder: Embedder | None = None
) -> tuple[list[list[ChunkData]], list[str]]:
    """Each document's chunks, and every text to embed (all documents, in order)."""
    embedder = embedder or get_embedder()
    chunked = [
        chunk_document(
            item.parsed,
            document_id=item.document_id,
            counter=embedder,
            title=item.title,
            max_tokens=settings.CHUNK_MAX_TOKENS,
            overlap_tokens=settings.CHUNK_OVERLAP_TOKENS,
        )
        for item in inputs
    ]
    texts = [
        embedding_text(item.title, chunk.section, chunk.text)
        for item, chunks in zip(inputs, chunked, strict=True)
        for chunk in chunks
    ]
    return chunked, texts


class _EmbedProgress:
    """Texts embedded so far; written by the embedding thread, read by the one reporting progress."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


def _embed(texts: list[str], progress: _EmbedProgress, embedder: Embedder | None = None) -> np.ndarray:
    """Pure computation (no database), so it may run in a thread beside the next batch's parsing."""
    embedder = embedder or get_embedder()
    parts = []
    for start in range(0, len(texts), _EMBED_STEP):
        parts.append(embedder.embed(texts[start : start + _EMBED_STEP]))
        progress.done = min(len(texts), start + _EMBED_STEP)
    return np.vstack(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def _assemble(
    inputs: Sequence[_PrepareInput], chunked: list[list[ChunkData]], vectors: np.ndarray
) -> list[PreparedDocument]:
    rows = iter(vectors)
    prepared = []
    for item, chunks in zip(inputs, chunked, strict=True):
        # Declared (front matter) first; else the language of most of the body's words.
        language = item.parsed.language or detect_majority_language([block.text for block in item.parsed.blocks])
        indexed = [
            IndexedChunk(
                chunk_id=chunk.chunk_id,
                document_id=item.document_id,
                title=item.title,
                section=chunk.section,
                text=chunk.text,
                page_start=chunk.page_start,
                page_end=chunk.page_end,
                language=language,
                principals=item.principals,
                vector=next(rows),
            )
            for chunk in chunks
        ]
        prepared.append(PreparedDocument(chunks=chunks, indexed=indexed, language=language))
    return prepared


# -- the pipeline -----------------------------------------------------------------------------------


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
    Document.objects.filter(pk__in=document_ids).filter(_claimable(now)).update(
        status=Document.Status.PROCESSING,
        status_reason="",
        stage=Document.Stage.PARSING,
        progress=0,
        progress_detail="",
        lease=lease,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    claimed = {document.pk: document for document in Document.objects.filter(pk__in=document_ids, lease=lease)}
    progress_started(list(claimed), stage=Document.Stage.PARSING)
    progress_publish(list(claimed))
    return [_Run(claimed[pk], lease) for pk in document_ids if pk in claimed]


def _fail(run: _Run, reason: str) -> None:
    """The run cannot index the document: record why, and withdraw whatever an earlier version left in the
    index (the rule is in ``document_update``)."""
    logger.info("document %s failed: %s", run.document.pk, reason)
    with transaction.atomic():
        failed = Document.objects.filter(pk=run.document.pk, lease=run.lease).update(
            status=Document.Status.FAILED,
            status_reason=reason,
            stage=Document.Stage.FAILED,
            lease="",
            heartbeat_at=None,
            chunk_count=0,
        )
        if failed:
            _withdraw(run.document.pk)
    progress_publish(run.document.pk)


def _withdraw(document_id: int) -> None:
    """Take a failed document's chunks out of search and the database (its original stays)."""
    Chunk.objects.filter(document_id=document_id).delete()
    get_search_backend().delete(document_id)


def _release(run: _Run, error: BaseException) -> None:
    """Give the document back (pending) after an unexpected error, so a retry can claim it at once."""
    Document.objects.filter(pk=run.document.pk, lease=run.lease).update(
        status=Document.Status.PENDING,
        status_reason=f"Retrying after an internal error ({type(error).__name__}).",
        stage=Document.Stage.QUEUED,
        lease="",
        heartbeat_at=timezone.now(),
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


def _write(run: _Run, prepared: PreparedDocument) -> bool:
    """Replace the document's chunks in the database and the index in one step; False when the run lost
    its lease (a newer version was queued, or the document was deleted) and wrote nothing."""
    document = run.document
    with transaction.atomic():
        # Written first, so this transaction holds the row (and, on SQLite, the database) from here on.
        owned = Document.objects.filter(pk=document.pk, lease=run.lease).update(heartbeat_at=timezone.now())
        if not owned:
            logger.info("document %s changed while it was processed; result discarded", document.pk)
            return False
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
        # Inside the database transaction: if the index write fails, the stored chunks roll back.
        get_search_backend().upsert(document.pk, indexed)
        Document.objects.filter(pk=document.pk).update(
            title=document.title,
            status=Document.Status.INDEXED,
            status_reason="",
            stage=Document.Stage.DONE,
            progress=100,
            progress_detail="",
            language=prepared.language,
            chunk_count=len(prepared.chunks),
            indexed_at=timezone.now(),
            embedding_model=get_embedder().name[-300:],
            lease="",
            heartbeat_at=None,
        )
    return True


@dataclass
class _Batch:
    ids: list[int]
    runs: list[_Run]

    @property
    def live(self) -> list[int]:
        return [run.document.pk for run in self.runs]

    inputs: list[_PrepareInput] = field(default_factory=list)
    chunked: list[list[ChunkData]] = field(default_factory=list)
    vectors: Future[np.ndarray] | None = None
    progress: _EmbedProgress = field(default_factory=lambda: _EmbedProgress(0))


def documents_ingest(
    *,
    document_ids: Sequence[int],
    errors: Literal["raise", "fail"] = "raise",
    on_document: Callable[[Document], None] | None = None,
) -> list[Document]:
    """Run the pipeline for documents and return their final state.

    Documents go in batches (``INGESTION_BATCH_DOCUMENTS``): while one batch is embedded in a background
    thread (pure computation), this thread parses and chunks the next one and writes the previous one,
    so the pipeline costs little beyond the model itself. Documents another run holds (or already indexed
    or failed) are left as they are. Readable failures end as ``failed``; an unexpected error gives the
    document back as pending and is raised (``errors="raise"``, for the task to retry) or recorded as the
    failure reason (``errors="fail"``, for bulk loads)."""
    results: dict[int, Document] = {}
    size = max(1, settings.INGESTION_BATCH_DOCUMENTS)
    unfinished: list[_Batch] = []

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
                        _PrepareInput(
                            run.parsed, run.document.pk, run.document.title, document_principals(run.document)
                        )
                        for run in batch.runs
                        if run.parsed is not None
                    ]
                    batch.chunked, texts = _chunk(batch.inputs)
                    batch.progress = _EmbedProgress(len(texts))
                    progress_report(batch.live, stage=Document.Stage.EMBEDDING, percent=0, detail="0%", force=True)
                    batch.vectors = executor.submit(_embed, texts, batch.progress)
                while len(unfinished) > (1 if batch.runs else 0):  # write the previous batch meanwhile
                    _finish(unfinished[0])
                    settle(unfinished.pop(0))
                if not batch.runs:
                    settle(batch)
            while unfinished:
                _finish(unfinished[0])
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
        Document.objects.filter(pk__in=ids, status=Document.Status.PROCESSING).update(heartbeat_at=timezone.now())


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


def _finish(batch: _Batch) -> None:
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
    for run, ready in zip(batch.runs, _assemble(batch.inputs, batch.chunked, vectors), strict=True):
        _write(run, ready)
    batch.runs = []  # written: nothing left to give back
    progress_publish(live)


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
        failed = (
            Document.objects.filter(pk=document_id)
            .exclude(status=Document.Status.INDEXED)
            .update(
                status=Document.Status.FAILED,
                status_reason=f"Internal error while indexing ({type(error).__name__}); an administrator can retry it.",
                stage=Document.Stage.FAILED,
                lease="",
                heartbeat_at=None,
                chunk_count=0,
            )
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


@transaction.atomic
def document_delete(*, document: Document, actor: User | None = None) -> None:
    """Remove the document from search at once, then from the database (the stored original stays).

    The row is written first: a run about to index this document either finishes before (and its chunks
    are deleted here) or finds its lease gone and writes nothing."""
    Document.objects.filter(pk=document.pk).update(lease="")
    get_search_backend().delete(document.pk)
    audit_record(
        event_type="document.delete",
        actor=actor,
        object_type="document",
        object_id=document.pk,
        data={"title": document.title},
    )
    document.delete()


@transaction.atomic
def document_access_changed(*, document: Document, actor: User | None = None) -> None:
    """The document's visibility (all staff / groups) was saved: record who changed it, and re-stamp its
    chunks in the index, without re-embedding, as soon as the change commits (``document_restamp``).

    On commit, not before: a change that rolls back (a later step of the same admin request fails) must
    leave the index as it was; a stamp written inside the transaction would have stayed, handing the
    document to the groups of a change that never happened. Tested in tests/ingestion/test_access_change.py.
    """
    audit_record(
        event_type="document.access_change",
        actor=actor,
        object_type="document",
        object_id=document.pk,
        data={
            "principals": sorted(document_principals(document)),
            "groups": sorted(document.groups.values_list("name", flat=True)),  # the principals' names, today
        },
    )
    transaction.on_commit(partial(document_restamp, document_id=document.pk))


def document_restamp(*, document_id: int) -> None:
    """Stamp the document's committed principals on its indexed chunks (a document without chunks is left
    as it is). Under the document's row lock, like the worker's write (``_write``): stamps land in the order
    of the commits they follow, and each carries the newest committed access, never an older one."""
    with transaction.atomic():
        # Written first, so this transaction holds the row (and, on SQLite, the database) from here on.
        if not Document.objects.filter(pk=document_id).update(heartbeat_at=F("heartbeat_at")):
            return  # deleted meanwhile: its chunks left the index with it
        principals = document_principals(Document.objects.get(pk=document_id))
        get_search_backend().set_principals(document_id, principals)


def documents_restamp(*, document_ids: Iterable[int] | None = None) -> int:
    """Re-stamp these documents (default: all) with the principals the database holds now, one transaction
    each (``manage.py restamp``): after the index was restored from a snapshot older than the last access
    change, or filled by a release with another principal format. Returns how many documents were read."""
    ids = list(Document.objects.values_list("pk", flat=True)) if document_ids is None else list(document_ids)
    for document_id in ids:
        document_restamp(document_id=document_id)
    return len(ids)


# -- bulk loads from paths (``manage.py ingest``) and rebuilds (``manage.py reindex``) ----------------


@dataclass
class LoadSummary:
    indexed: list[Document] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)


def paths_collect(paths: Iterable[Path], *, recursive: bool) -> Iterator[Path]:
    """Supported files among ``paths`` (folders are read one level deep, or all the way when recursive)."""
    for path in paths:
        if path.is_dir():
            children = path.rglob("*") if recursive else path.glob("*")
            for child in sorted(children):
                if child.is_file() and not child.name.startswith(".") and is_supported(child):
                    yield child
        elif path.is_file():
            yield path


def documents_load_paths(
    *,
    paths: Sequence[Path],
    owner: User | None,
    group_names: Sequence[str] = (),
    tags: Sequence[str] = (),
    on_file: Callable[[str], None] | None = None,
) -> LoadSummary:
    """Index files in this process: new files become documents, changed files (same source path) new
    versions, files whose content is already indexed are skipped. Missing groups are created."""
    summary = LoadSummary()
    groups = [Group.objects.get_or_create(name=name)[0] for name in group_names]
    queued: list[int] = []
    for start in range(0, len(paths), settings.INGESTION_BATCH_DOCUMENTS):
        # Registered a batch per transaction (one commit, not one per file), then indexed.
        with transaction.atomic():
            batch = _register_paths(
                paths[start : start + settings.INGESTION_BATCH_DOCUMENTS], summary, groups, tags, owner, on_file
            )
        queued.extend(batch)

    def settled(document: Document) -> None:
        if document.status == Document.Status.INDEXED:
            summary.indexed.append(document)
        else:
            summary.failed.append((document.source or document.original_name, document.status_reason))
        if on_file is not None:
            on_file(document.source or document.original_name)

    documents_ingest(document_ids=queued, errors="fail", on_document=settled)
    return summary


def _register_paths(
    paths: Sequence[Path],
    summary: LoadSummary,
    groups: list[Group],
    tags: Sequence[str],
    owner: User | None,
    on_file: Callable[[str], None] | None,
) -> list[int]:
    queued: list[int] = []
    for path in paths:
        source = str(path.resolve())
        if not is_supported(path):
            summary.failed.append((source, f"Unsupported file type {path.suffix or '(none)'}."))
            if on_file is not None:
                on_file(source)
            continue
        checksum = file_checksum(path)
        existing = Document.objects.filter(source=source).order_by("pk").first()
        indexed = Document.objects.filter(checksum=checksum, status=Document.Status.INDEXED)
        if (existing is None and indexed.exists()) or (
            existing is not None and indexed.filter(pk=existing.pk).exists()
        ):
            summary.unchanged.append(path)
            if on_file is not None:
                on_file(source)
            continue
        if existing is not None:
            document_new_version(document=existing, path=path, queue=False)
            Document.objects.filter(pk=existing.pk).update(status=Document.Status.PENDING, lease="")
            queued.append(existing.pk)
        else:
            document = document_register(
                path=path,
                title=path.stem,
                owner=owner,
                all_staff=not groups,
                groups=groups,
                tags=tags,
                source=source,
                queue=False,
            )
            queued.append(document.pk)
    return queued


def documents_reindex(
    *, everything: bool, on_document: Callable[[Document], None] | None = None
) -> tuple[list[int], list[Document]]:
    """Rebuild the index from the stored originals: every document (``everything``, after the index was
    cleared), or those not indexed with the current embedding model (after a model change) or failed."""
    if everything:
        get_search_backend().clear()
        targets = Document.objects.all()
    else:
        current = get_embedder().name[-300:]
        targets = Document.objects.filter(~Q(embedding_model=current) | ~Q(status=Document.Status.INDEXED))
    ids = list(targets.order_by("pk").values_list("pk", flat=True))
    Document.objects.filter(pk__in=ids).update(
        status=Document.Status.PENDING, status_reason="", stage=Document.Stage.QUEUED, lease=""
    )
    return ids, documents_ingest(document_ids=ids, errors="fail", on_document=on_document)
