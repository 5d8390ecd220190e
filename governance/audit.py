"""The audit trail: one writer (``audit_record``), one verifier (``audit_verify``).

Each event's hash covers its content and the previous event's hash, so changing, deleting or inserting
a row anywhere breaks the chain from that point on. The application never updates or deletes events; on
PostgreSQL a trigger rejects UPDATE and DELETE outright (migration 0002).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from governance.models import AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 0x61756474  # pg_advisory_xact_lock key serialising appends ("audt")


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "previous_hash": event.previous_hash,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "event_type": event.event_type,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def audit_record(
    *,
    event_type: str,
    actor: Any = None,
    object_type: str = "",
    object_id: object = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event inside the caller's transaction (so it commits or rolls back with the action)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        is_user = actor is not None and getattr(actor, "is_authenticated", False)
        event = AuditEvent(
            created_at=timezone.now(),
            actor_id=actor.pk if is_user else None,
            actor_username=actor.get_username() if is_user else "",
            event_type=event_type,
            object_type=object_type,
            object_id=str(object_id) if object_id not in (None, "") else "",
            data=json.loads(json.dumps(data or {}, default=str)),
            previous_hash=last or GENESIS,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def audit_verify() -> Iterator[ChainBreak]:
    """Yield every place where the stored chain does not verify."""
    previous = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != previous:
            yield ChainBreak(event.pk, "previous hash does not match the event before it (deleted or inserted row)")
        if event_hash(event) != event.hash:
            yield ChainBreak(event.pk, "content does not match its hash (modified row)")
        previous = event.hash
