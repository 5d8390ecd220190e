"""Celery task for training: on its own queue, so a long run never delays ingestion on the default one.

A worker must consume it: ``celery -A config worker -Q training`` (or ``-Q celery,training``). The queue
is named where the task is sent (``tuning_run_create``), not as a task attribute, which Celery 5.7
deprecates, and not in the global routes.
"""

from __future__ import annotations

from celery import shared_task

from tuning.services import tuning_run_execute

TRAINING_QUEUE = "training"


# No retries and no late ack: a run that dies is marked by hand or started again as a new run, rather
# than silently training twice.
@shared_task(acks_late=False)
def tune_tone(run_id: int) -> str:
    return str(tuning_run_execute(run_id=run_id).status)
