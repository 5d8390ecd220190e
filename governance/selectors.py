from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from governance.models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    username: str = ""
    event_type: str = ""
    document_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


def audit_event_list(criteria: AuditFilter) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if criteria.username:
        events = events.filter(actor_username=criteria.username)
    if criteria.event_type:
        events = events.filter(event_type=criteria.event_type)
    if criteria.document_id:
        events = events.filter(object_type="document", object_id=criteria.document_id)
    if criteria.since:
        events = events.filter(created_at__gte=criteria.since)
    if criteria.until:
        events = events.filter(created_at__lt=criteria.until)
    return events.order_by("-id")


def audit_event_types() -> list[str]:
    return list(AuditEvent.objects.order_by().values_list("event_type", flat=True).distinct())
