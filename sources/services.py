"""Syncing a source: what changed since the last sync goes through the same services as an upload
(``document_register``, ``document_new_version``, ``document_delete``, ``document_access_changed`` in
ingestion/services.py), so versioning, stale-chunk guarantees, permissions and audit are the upload's.
Every change a sync makes is audited twice in one transaction: the service's own event (``document.upload``,
``document.new_version``, ``document.delete``, as for any upload) and ``source.document_<added|changed|
moved|removed>`` naming the source and the file, so the trail says where each document came from."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from governance.audit import audit_record
from ingestion.models import Document
from ingestion.pipeline import IngestionError, documents_mark_queued
from ingestion.services import (
    document_access_changed,
    document_delete,
    document_new_version,
    document_register,
)
from sources.models import Source, SourceItem
from sources.progress import SyncProgress, source_progress_publish
from sources.readers import Entry, FolderReader, GitReader, Known, Reader, SourceError, WebsiteReader

logger = logging.getLogger(__name__)

# A sync whose heartbeat is older than this is taken for crashed: the next sync claims the source and
# resumes (what the crashed one finished is recorded item by item, so it is not done twice).
LEASE_STALE_AFTER = timedelta(minutes=10)
HEARTBEAT_EVERY = 50  # entries


class SourceBusy(Exception):
    """Another sync holds the source."""


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    document_ids: list[int] = field(default_factory=list)  # registered or re-versioned: to be indexed


def source_document_name(source: Source, key: str) -> str:
    return f"sources/{source.name}/{key}"


def reader_for(source: Source) -> Reader:
    if source.kind == Source.Kind.FOLDER:
        return FolderReader(root=Path(source.location))
    if source.kind == Source.Kind.GIT:
        # One bare cache per source and location (a source pointed elsewhere starts a fresh one).
        place = hashlib.sha256(source.location.encode()).hexdigest()[:16]
        cache = settings.DATA_DIR / "sources" / f"{source.pk}-{place}.git"
        return GitReader(location=source.location, branch=source.branch or "main", cache=cache)
    if source.kind == Source.Kind.WEBSITE:
        place = hashlib.sha256(source.location.encode()).hexdigest()[:16]
        cache = settings.DATA_DIR / "sources" / f"{source.pk}-{place}.web"
        return WebsiteReader(start=source.location, max_depth=source.max_depth, max_pages=source.max_pages, cache=cache)
    raise SourceError(f"Unknown kind {source.kind!r}.")


def _claim(source_id: int) -> str | None:
    lease = str(uuid.uuid4())
    now = timezone.now()
    claimed = (
        Source.objects.filter(pk=source_id)
        .filter(Q(lease="") | Q(heartbeat_at__lt=now - LEASE_STALE_AFTER) | Q(heartbeat_at=None))
        .update(
            lease=lease,
            heartbeat_at=now,
            status=Source.Status.RUNNING,
            status_reason="",
            last_started_at=now,
            # The counts and progress shown from now on are this sync's.
            added=0,
            changed=0,
            removed=0,
            failed=0,
            progress_done=0,
            progress_total=None,
        )
    )
    if claimed:
        source_progress_publish([source_id])
    return lease if claimed else None


def _heartbeat(source_id: int, lease: str) -> None:
    if not Source.objects.filter(pk=source_id, lease=lease).update(heartbeat_at=timezone.now()):
        raise SourceBusy("the lease was taken over")


def _next_run(source: Source, now: datetime) -> datetime | None:
    return now + timedelta(minutes=source.interval_minutes) if source.interval_minutes else None


def sources_sync_queue(*, source_ids: Iterable[int]) -> int:
    """Queue a sync of each source ("Sync now"), once this transaction commits. An idle source shows
    "queued" at once; one being synced keeps its running state (the queued sync will find it busy).
    Returns how many were queued."""
    from sources.tasks import sync_source  # the task module imports this one

    ids = list(source_ids)
    Source.objects.filter(pk__in=ids, lease="").update(
        status=Source.Status.QUEUED, progress_done=0, progress_total=None
    )
    source_progress_publish(ids)
    for source_id in ids:
        transaction.on_commit(partial(sync_source.delay, source_id))
    return len(ids)


def source_sync(*, source_id: int, queue: bool = True) -> SyncResult:
    """Bring the source's documents in line with what it holds now. Raises ``SourceBusy`` when another
    sync holds it. With ``queue`` (the default) new and changed documents go to the ingestion workers as
    uploads do; without, the caller indexes ``SyncResult.document_ids`` (``documents_ingest``)."""
    lease = _claim(source_id)
    if lease is None:
        raise SourceBusy(f"source {source_id} is being synced")
    source = Source.objects.get(pk=source_id)
    result = SyncResult()
    progress = SyncProgress(source_id=source_id, lease=lease)
    try:
        _sync(source, lease, result, progress, queue=queue)
    except Exception as error:
        now = timezone.now()
        Source.objects.filter(pk=source_id, lease=lease).update(
            lease="",
            status=Source.Status.FAILED,
            status_reason=str(error)[:2000],
            last_finished_at=now,
            next_sync_at=_next_run(source, now),
        )
        source_progress_publish([source_id])
        audit_record(
            event_type="source.sync_failed",
            object_type="source",
            object_id=source.pk,
            data={"source": source.name, "reason": str(error)[:500]},
        )
        raise
    now = timezone.now()
    Source.objects.filter(pk=source_id, lease=lease).update(
        lease="",
        status=Source.Status.FAILED if result.failed else Source.Status.OK,
        status_reason="; ".join(f"{key}: {why}" for key, why in result.failed)[:2000],
        last_finished_at=now,
        next_sync_at=_next_run(source, now),
        added=len(result.added),
        changed=len(result.changed),
        removed=len(result.removed),
        failed=len(result.failed),
        failures=[list(failure) for failure in result.failed[:100]],
        progress_done=progress.done,
        progress_total=progress.total,
    )
    source_progress_publish([source_id])
    audit_record(
        event_type="source.synced",
        object_type="source",
        object_id=source.pk,
        data={
            "source": source.name,
            "revision": source.revision,
            "added": len(result.added),
            "changed": len(result.changed),
            "moved": len(result.moved),
            "removed": len(result.removed),
            "failed": len(result.failed),
        },
    )
    return result


def _report(progress: SyncProgress, result: SyncResult, *, force: bool = False) -> None:
    progress.update(
        added=len(result.added),
        changed=len(result.changed),
        removed=len(result.removed),
        failed=len(result.failed),
        force=force,
    )


def _sync(source: Source, lease: str, result: SyncResult, progress: SyncProgress, *, queue: bool) -> None:
    reader = reader_for(source)
    items = {item.key: item for item in SourceItem.objects.filter(source=source).select_related("document")}
    known = {key: Known(fingerprint=item.fingerprint, stat=item.stat) for key, item in items.items()}
    groups = list(source.groups.all())
    fresh: list[Entry] = []
    seen: set[str] = set()
    restated: list[SourceItem] = []  # same content, new mtime or link: written together below
    for n, entry in enumerate(reader.entries(known), start=1):
        if n % HEARTBEAT_EVERY == 0:
            _heartbeat(source.pk, lease)
        seen.add(entry.key)
        item = items.get(entry.key)
        if item is None:
            fresh.append(entry)  # added below, once a move can be told from an addition
            continue
        if item.fingerprint != entry.fingerprint:
            _guard(result, entry.key, partial(_change, source, reader, item, entry, result, queue=queue))
        else:
            if item.stat != entry.stat or item.link != entry.link:
                item.stat, item.link = entry.stat, entry.link
                restated.append(item)
            result.unchanged += 1
        progress.done += 1
        _report(progress, result)
    with transaction.atomic():  # one write, not one per file (a touched tree costs a hash per file only)
        SourceItem.objects.bulk_update(restated, ["stat", "link"], batch_size=500)
    result.failed.extend(reader.refused)
    gone = {key: item for key, item in items.items() if key not in seen}
    progress.total = len(seen) + len(gone)  # every entry listed, and every one to withdraw
    _report(progress, result)
    # A file that moved keeps its document (same content under a new path): no re-index, one audit event.
    by_fingerprint = {item.fingerprint: item for item in gone.values()}
    for entry in fresh:
        moved = by_fingerprint.pop(entry.fingerprint, None)
        if moved is not None and moved.key in gone:
            del gone[moved.key]
            progress.total -= 1  # the move withdraws nothing
            _guard(result, entry.key, partial(_move, source, moved, entry, result))
        else:
            _guard(result, entry.key, partial(_add, source, reader, entry, groups, result, queue=queue))
        _heartbeat(source.pk, lease)
        progress.done += 1
        _report(progress, result)
    for key, item in gone.items():
        _guard(result, key, partial(_remove, source, item, result))
        progress.done += 1
        _report(progress, result)
    if reader.revision:
        Source.objects.filter(pk=source.pk).update(revision=reader.revision)
        source.revision = reader.revision


def _guard(result: SyncResult, key: str, action: Callable[[], None]) -> None:
    """One file's failure is recorded and the sync goes on with the others."""
    try:
        action()
    except (IngestionError, SourceError, OSError, ValueError) as error:
        logger.warning("source file %s failed: %s", key, error)
        result.failed.append((key, str(error)[:500]))


def _audit(source: Source, change: str, key: str, document_id: int, **data: object) -> None:
    audit_record(
        event_type=f"source.document_{change}",
        object_type="document",
        object_id=document_id,
        data={"source": source.name, "key": key, **data},
    )


@transaction.atomic
def _add(source: Source, reader: Reader, entry: Entry, groups: list[Group], result: SyncResult, *, queue: bool) -> None:
    with reader.materialise(entry) as path:
        document = document_register(
            path=path,
            title=PurePosixPath(entry.key).stem,
            owner=None,
            all_staff=source.all_staff,
            groups=groups,
            source=source_document_name(source, entry.key),
            original_name=PurePosixPath(entry.key).name,
            queue=queue,
        )
    SourceItem.objects.create(
        source=source,
        key=entry.key,
        document=document,
        fingerprint=entry.fingerprint,
        stat=entry.stat,
        link=entry.link,
    )
    _audit(source, "added", entry.key, document.pk, link=entry.link)
    result.added.append(entry.key)
    result.document_ids.append(document.pk)


@transaction.atomic
def _change(source: Source, reader: Reader, item: SourceItem, entry: Entry, result: SyncResult, *, queue: bool) -> None:
    with reader.materialise(entry) as path:
        document_new_version(
            document=item.document, path=path, original_name=PurePosixPath(entry.key).name, queue=queue
        )
    if not queue:  # the caller indexes it in this process, as ``manage.py ingest`` does
        documents_mark_queued(Document.objects.filter(pk=item.document_id))
    SourceItem.objects.filter(pk=item.pk).update(fingerprint=entry.fingerprint, stat=entry.stat, link=entry.link)
    _audit(source, "changed", entry.key, item.document_id, link=entry.link)
    result.changed.append(entry.key)
    result.document_ids.append(item.document_id)


@transaction.atomic
def _move(source: Source, item: SourceItem, entry: Entry, result: SyncResult) -> None:
    name = source_document_name(source, entry.key)
    Document.objects.filter(pk=item.document_id).update(source=name, original_name=PurePosixPath(entry.key).name)
    SourceItem.objects.filter(pk=item.pk).update(key=entry.key, stat=entry.stat, link=entry.link)
    _audit(source, "moved", entry.key, item.document_id, previous_key=item.key, link=entry.link)
    result.moved.append((item.key, entry.key))


@transaction.atomic
def _remove(source: Source, item: SourceItem, result: SyncResult) -> None:
    _audit(source, "removed", item.key, item.document_id)
    document_delete(document=item.document)  # withdraws it from search at once; the item goes with it
    result.removed.append(item.key)


@transaction.atomic
def source_access_changed(*, source: Source, actor: User | None, all_staff: bool, groups: Iterable[Group]) -> int:
    """Give every document of the source the source's new access and re-stamp the index at once (the same
    re-stamping as a document's own access change); returns how many documents changed."""
    groups = list(groups)
    changed = 0
    for document in Document.objects.filter(source_item__source=source).select_for_update():
        document.all_staff = all_staff
        document.save(update_fields=["all_staff", "updated_at"])
        document.groups.set(groups)
        document_access_changed(document=document, actor=actor)
        changed += 1
    audit_record(
        event_type="source.access_changed",
        actor=actor,
        object_type="source",
        object_id=source.pk,
        data={
            "source": source.name,
            "all_staff": all_staff,
            "groups": sorted(g.name for g in groups),
            "documents": changed,
        },
    )
    return changed


def sources_due(now: datetime | None = None) -> list[int]:
    """Sources whose scheduled sync is due (never synced ones included), not being synced."""
    now = now or timezone.now()
    return list(
        Source.objects.filter(interval_minutes__gt=0)
        .filter(Q(next_sync_at__lte=now) | Q(next_sync_at=None))
        .filter(Q(lease="") | Q(heartbeat_at__lt=now - LEASE_STALE_AFTER))
        .values_list("pk", flat=True)
    )
