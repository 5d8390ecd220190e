from __future__ import annotations

from celery import shared_task

from governance.checkpoints import audit_checkpoint as checkpoint_write


@shared_task(name="governance.tasks.audit_checkpoint")
def audit_checkpoint() -> int:
    """Every AUDIT_CHECKPOINT_MINUTES (``CELERY_BEAT_SCHEDULE``): anchor the audit chain's head; returns its id."""
    return checkpoint_write().last_id
