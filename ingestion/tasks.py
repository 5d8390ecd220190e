"""Celery tasks: take ids, call one service, own retries (with backoff) and the final failure."""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from ingestion.models import Document
from ingestion.pipeline import document_fail_after_retries, document_ingest, documents_recover_interrupted

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 10
RETRY_MAX_SECONDS = 600


def retry_countdown(retries: int) -> float:
    """Exponential backoff with jitter: ~10 s, 20 s, 40 s ... capped at 10 minutes."""
    return min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2.0**retries) * random.uniform(0.8, 1.2)


# acks_late + reject_on_worker_lost: a task whose worker dies is delivered again, where the broker can;
# the service's lease makes a second delivery (or a retry after a success) a no-op, and the recovery
# below re-queues what a broker without redelivery (the filesystem transport) has lost.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def ingest_document(self: Any, document_id: int) -> str:
    try:
        document = document_ingest(document_id=document_id)
    except Document.DoesNotExist:
        logger.warning("document %s no longer exists", document_id)
        return "missing"
    except Exception as error:
        if self.request.retries >= self.max_retries:
            logger.exception("document %s failed after %d retries", document_id, self.request.retries)
            document_fail_after_retries(document_id=document_id, error=error)
            return str(Document.Status.FAILED)
        raise self.retry(exc=error, countdown=retry_countdown(self.request.retries)) from error
    if document.status == Document.Status.PROCESSING and self.request.retries < self.max_retries:
        # Another run holds the document (a redelivered message, or a pool child that died mid-run and
        # whose lease has yet to run out): look again once that lease would have expired.
        raise self.retry(countdown=settings.INGESTION_LEASE_SECONDS + 5)
    return str(document.status)


@worker_ready.connect
def _recover_interrupted(**_: Any) -> None:
    """A starting worker picks up documents left behind by a worker that died."""
    try:
        documents_recover_interrupted()
    except Exception:  # the worker must start even when the database is briefly unavailable
        logger.exception("could not recover interrupted documents")
