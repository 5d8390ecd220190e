"""Document lifecycle: register an upload, run the pipeline (parse -> chunk -> embed -> index), delete."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.principals import principals_for_document
from ingestion.chunk import ChunkData, chunk_document
from ingestion.embed import get_embedder
from ingestion.language import detect_language
from ingestion.models import Chunk, Document
from ingestion.parse import ParsedDocument, ParseError, parse_file
from ingestion.search import IndexedChunk, get_search_backend

logger = logging.getLogger(__name__)


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
        group_names=document.groups.values_list("name", flat=True),
        owner_id=document.owner_id,
    )


def document_queue_ingestion(*, document: Document) -> None:
    """Mark the document pending and hand it to a worker once the current transaction commits."""
    from ingestion.tasks import ingest_document

    Document.objects.filter(pk=document.pk).update(status=Document.Status.PENDING, status_reason="")
    document.status, document.status_reason = Document.Status.PENDING, ""
    transaction.on_commit(lambda: ingest_document.delay(document.pk))


@transaction.atomic
def document_register(
    *,
    path: Path,
    title: str,
    owner: User | None,
    all_staff: bool = True,
    groups: Iterable[Group] = (),
    queue: bool = True,
) -> Document:
    """Store a copy of the file as the document's original and (by default) queue it for ingestion."""
    document = Document(title=title, owner=owner, all_staff=all_staff, original_name=path.name)
    with path.open("rb") as handle:
        document.file.save(path.name, File(handle), save=False)
    document.checksum = file_checksum(path)
    document.save()
    document.groups.set(list(groups))
    if queue:
        document_queue_ingestion(document=document)
    return document


@dataclass(frozen=True)
class PreparedDocument:
    chunks: list[ChunkData]
    indexed: list[IndexedChunk]
    language: str


def document_prepare(
    parsed: ParsedDocument, *, document_id: int, title: str, principals: frozenset[str]
) -> PreparedDocument:
    """Chunk, detect the language and embed: everything between parsing and indexing. Uploads and the
    retrieval evaluation both go through here, so what is measured is what is served."""
    chunks = chunk_document(
        parsed,
        document_id=document_id,
        max_words=settings.CHUNK_MAX_WORDS,
        overlap_words=settings.CHUNK_OVERLAP_WORDS,
    )
    language = detect_language(parsed.text)
    vectors = get_embedder().embed([f"{title}. {chunk.section}\n{chunk.text}" for chunk in chunks])
    indexed = [
        IndexedChunk(
            chunk_id=chunk.chunk_id,
            document_id=document_id,
            title=title,
            section=chunk.section,
            text=chunk.text,
            page_start=chunk.page_start,
            page_end=chunk.page_end,
            language=language,
            principals=principals,
            vector=vector,
        )
        for chunk, vector in zip(chunks, vectors, strict=True)
    ]
    return PreparedDocument(chunks=chunks, indexed=indexed, language=language)


def _fail(document: Document, reason: str) -> Document:
    document.status = Document.Status.FAILED
    document.status_reason = reason
    document.save(update_fields=["status", "status_reason", "updated_at"])
    return document


def document_ingest(*, document_id: int) -> Document:
    """Run the pipeline for one document. Readable failures end as ``failed`` with their reason and
    leave the index and the stored original as they were; other errors propagate for the task to retry."""
    document = Document.objects.get(pk=document_id)
    document.status, document.status_reason = Document.Status.PROCESSING, ""
    document.save(update_fields=["status", "status_reason", "updated_at"])
    path = Path(document.file.path)
    try:
        if not path.is_file():
            raise IngestionError("The original file is missing from storage.")
        if path.stat().st_size > settings.UPLOAD_MAX_BYTES:
            raise IngestionError(
                f"The file is larger than the limit of {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB."
            )
        parsed = parse_file(path, original_name=document.original_name or path.name)
    except (ParseError, IngestionError) as error:
        logger.info("document %s failed: %s", document_id, error)
        return _fail(document, str(error))

    prepared = document_prepare(
        parsed, document_id=document.pk, title=document.title, principals=document_principals(document)
    )
    chunks, indexed, language = prepared.chunks, prepared.indexed, prepared.language
    with transaction.atomic():
        Chunk.objects.filter(document=document).delete()
        Chunk.objects.bulk_create(
            Chunk(
                document=document,
                chunk_id=chunk.chunk_id,
                ordinal=chunk.ordinal,
                text=chunk.text,
                section=chunk.section,
                page_start=chunk.page_start,
                page_end=chunk.page_end,
            )
            for chunk in chunks
        )
        # The index is written inside the database transaction: if it fails, the stored chunks roll back.
        get_search_backend().upsert(document.pk, indexed)
        document.status = Document.Status.INDEXED
        document.language = language
        document.checksum = file_checksum(path)
        document.chunk_count = len(chunks)
        document.indexed_at = timezone.now()
        document.save(update_fields=["status", "language", "checksum", "chunk_count", "indexed_at", "updated_at"])
    return document


@transaction.atomic
def document_delete(*, document: Document) -> None:
    """Remove the document from search at once, then from the database (the stored original stays)."""
    get_search_backend().delete(document.pk)
    document.delete()
