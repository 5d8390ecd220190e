"""Celery tasks: take ids, call one service. A source's lease (sources/services.py) is the lock, so a
sync queued twice, or by beat while someone pressed "Sync now", runs once."""

from __future__ import annotations

import logging

from celery import shared_task

from sources.services import SourceBusy, source_sync, sources_due

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sync_source(source_id: int) -> str:
    try:
        result = source_sync(source_id=source_id)
    except SourceBusy:
        logger.info("source %s is already being synced", source_id)
        return "busy"
    return f"added {len(result.added)}, changed {len(result.changed)}, removed {len(result.removed)}"


@shared_task
def sync_due_sources() -> list[int]:
    """Beat's entry: queue every source whose scheduled sync is due."""
    due = sources_due()
    for source_id in due:
        sync_source.delay(source_id)
    return due
