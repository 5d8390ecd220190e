"""A sync's live progress, like an upload's: saved on the ``Source`` row (so a page that opens later sees
it) and pushed through ingestion's one progress helper as its ``sources`` topic (ingestion/progress.py),
which the admin's source list follows over ``/ws/ingestion/progress/`` (sources/static/sources/progress.js).

queued ("Sync now") -> syncing n (listing) -> syncing n/m (applying) -> synced | failed, with the running
sync's added / changed / removed / failed counts. Within a sync, updates are throttled to one a second."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypedDict

from django.db import models, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext

from ingestion.progress import ProgressTopic, progress_topic_push
from sources.models import Source

TOPIC = "sources"
VIEW_PERMISSION = "sources.view_source"
MIN_INTERVAL_SECONDS = 1.0
MAX_WATCHED = 500


class SourceProgressEvent(TypedDict):
    """Server -> browser on ``/ws/ingestion/progress/`` (``type`` ``source_progress``)."""

    type: Literal["source_progress"]
    source_id: int
    status: str
    text: str  # the status as the admin shows it ("syncing 12/40"), in the watcher's language
    counts_text: str  # the counts as the admin shows them ("added: 3 · changed: 1 · ..."), likewise
    done: int
    total: int | None  # unknown while the sync is still listing the source
    added: int
    changed: int
    removed: int
    failed: int
    reason: str
    finished_at: str  # ISO 8601, "" before the first sync finished
    finished_label: str  # as the admin's list shows a date, in the watcher's language
    next_at: str
    next_label: str


def source_status_text(status: str, done: int, total: int | None) -> str:
    """What the admin reads in a source's status column, in the active language: the one wording for the
    list as rendered and for every event pushed to it."""
    label = str(Source.Status(status).label)
    if status != Source.Status.RUNNING:
        return label
    if total is None:
        return gettext("%(status)s · %(done)d read") % {"status": label, "done": done}
    return f"{label} {done}/{total}"


COUNTS = ("added", "changed", "removed", "failed")


def source_counts_text(counts: Mapping[str, int]) -> str:
    """The sync's counts as the admin reads them, named as the model's fields are, in the active language."""
    # A no-break space keeps each count with its name when the cell wraps.
    return " · ".join(f"{_field_label(name)}:\u00a0{counts[name]}" for name in COUNTS)


def _field_label(name: str) -> str:
    field = Source._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.verbose_name)


def _when(value: datetime | None) -> tuple[str, str]:
    if value is None:
        return "", ""
    return value.isoformat(), str(formats.localize(timezone.localtime(value)))


def _event(source: Source) -> SourceProgressEvent:
    finished_at, finished_label = _when(source.last_finished_at)
    next_at, next_label = _when(source.next_sync_at)
    return SourceProgressEvent(
        type="source_progress",
        source_id=source.pk,
        status=source.status,
        text=source_status_text(source.status, source.progress_done, source.progress_total),
        counts_text=source_counts_text(vars(source)),
        done=source.progress_done,
        total=source.progress_total,
        added=source.added,
        changed=source.changed,
        removed=source.removed,
        failed=source.failed,
        reason=source.status_reason,
        finished_at=finished_at,
        finished_label=finished_label,
        next_at=next_at,
        next_label=next_label,
    )


def source_progress_snapshot(source_ids: Iterable[int]) -> list[Mapping[str, Any]]:
    """The saved state of the given sources (a page that opens or reconnects)."""
    return [_event(source) for source in Source.objects.filter(pk__in=list(source_ids)[:MAX_WATCHED])]


def _label(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event named in the active language (the consumer's watcher's): status and dates."""
    labelled = dict(event)
    labelled["text"] = source_status_text(event["status"], event["done"], event["total"])
    labelled["counts_text"] = source_counts_text(event)
    for key in ("finished", "next"):
        at = event.get(f"{key}_at") or ""
        labelled[f"{key}_label"] = _when(datetime.fromisoformat(at))[1] if at else ""
    return labelled


TOPIC_SPEC = ProgressTopic(name=TOPIC, permission=VIEW_PERMISSION, snapshot=source_progress_snapshot, label=_label)


def source_progress_publish(source_ids: Iterable[int]) -> None:
    """Push the saved state of the sources (after their status changed), once committed."""
    ids = list(source_ids)
    transaction.on_commit(lambda: progress_topic_push(TOPIC, source_progress_snapshot(ids)))


@dataclass
class SyncProgress:
    """A running sync's counter: ``update`` saves and pushes at most once a second (``force`` always)."""

    source_id: int
    lease: str
    done: int = 0
    total: int | None = None
    # From the claim, which published the start: a sync done within a second writes no progress at all.
    _last: float = field(default_factory=time.monotonic, repr=False)

    def update(self, *, added: int, changed: int, removed: int, failed: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < MIN_INTERVAL_SECONDS:
            return
        self._last = now
        saved = Source.objects.filter(pk=self.source_id, lease=self.lease).update(
            progress_done=self.done,
            progress_total=self.total,
            added=added,
            changed=changed,
            removed=removed,
            failed=failed,
            heartbeat_at=timezone.now(),  # progress is a sign of life too
        )
        if saved:
            source_progress_publish([self.source_id])
