from __future__ import annotations

from celery import shared_task

from chatbot.retention import retention_apply


@shared_task(name="chatbot.tasks.apply_retention")
def apply_retention() -> int:
    """Nightly (``CELERY_BEAT_SCHEDULE``): delete expired conversations; returns how many."""
    return retention_apply().conversations
