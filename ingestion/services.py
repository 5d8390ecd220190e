"""Document lifecycle as a person sees it: register an upload (one file, or many with ZIP archives
expanded), a new version, an edit of its fields and access, a deletion. Each is one service writing its
audit event in its own transaction; indexing is queued to ``ingestion/pipeline.py``."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path

from django.contrib.auth.models import Group
from django.core.files import File
from django.db import transaction
from django.db.models import F

from accounts.models import User
from governance.audit import audit_record
from ingestion.archive import UploadItem, archive_expand
from ingestion.models import Document
from ingestion.parsers import is_supported
from ingestion.pipeline import document_principals, document_queue_ingestion, document_revoke_lease
from ingestion.search import get_search_backend


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    - if that re-index fails, the document is withdrawn from search (``pipeline._fail``) until a working
      file is indexed: nobody is served text that is neither the stored original nor what the admin chose.

    The worker stamps the principals it reads inside its own write (``pipeline._write``), so a run that
    prepared its chunks before this change cannot bring the old principals back. Tested in
    tests/ingestion/test_admin_access_edit.py and tests/test_permissions_property.py.
    """
    # The row lock orders this edit with a worker's write of the same document (``pipeline._write``).
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


@transaction.atomic
def document_delete(*, document: Document, actor: User | None = None) -> None:
    """Remove the document from search at once, then from the database (the stored original stays).

    The row is written first: a run about to index this document either finishes before (and its chunks
    are deleted here) or finds its lease gone and writes nothing."""
    document_revoke_lease(document.pk)
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
    as it is). Under the document's row lock, like the worker's write (``pipeline._write``): stamps land in
    the order of the commits they follow, and each carries the newest committed access, never an older one."""
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
