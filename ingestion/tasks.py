from __future__ import annotations

import logging

from celery import shared_task

from ingestion.models import Document
from ingestion.services import document_ingest

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=10)
def ingest_document(self, document_id: int) -> str:  # type: ignore[no-untyped-def]
    try:
        return document_ingest(document_id=document_id).status
    except Document.DoesNotExist:
        logger.warning("document %s no longer exists", document_id)
        return "missing"
    except Exception as error:
        if self.request.retries >= self.max_retries:
            logger.exception("document %s failed after retries", document_id)
            Document.objects.filter(pk=document_id).update(
                status=Document.Status.FAILED,
                status_reason="Internal error while indexing; an administrator can retry it.",
            )
            return Document.Status.FAILED
        raise self.retry(exc=error) from error
