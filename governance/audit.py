"""The audit trail: one writer (``audit_record``), one verifier (``audit_verify``).

Each event's hash is an HMAC, keyed by ``AUDIT_KEY``, of its content and the previous event's hash, so
changing, deleting or inserting a row anywhere breaks the chain from that point on, and nobody without the
key (which the database does not hold) can re-hash the rows after a change. Deleting the newest rows leaves
a shorter chain that is still intact: checkpoints of the head, kept outside the database
(``governance/checkpoints.py``), catch that, and catch a re-hashed chain too. The application never updates
or deletes events; on PostgreSQL a trigger rejects UPDATE and DELETE outright (migration 0002).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from governance.models import AuditEvent

if TYPE_CHECKING:
    from governance.checkpoints import Checkpoint

GENESIS = "0" * 64
RESEAL_EVENT = "audit.resealed"
_LOCK_KEY = 0x61756474  # pg_advisory_xact_lock key serialising appends ("audt")


@cache
def _derived_key(key: str, purpose: str) -> bytes:
    return hmac.new(key.encode(), f"faro/audit/{purpose}/v1".encode(), hashlib.sha256).digest()


def audit_key(purpose: str, *, key: str | None = None) -> bytes:
    """A key for one use (``chain``, ``checkpoint``, ``text``), derived from ``AUDIT_KEY`` (or ``key``)."""
    secret = key if key is not None else settings.AUDIT_KEY
    if not secret:
        raise RuntimeError("AUDIT_KEY is not configured")
    return _derived_key(str(secret), purpose)


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


def event_hash(event: AuditEvent, *, key: str | None = None) -> str:
    return hmac.new(audit_key("chain", key=key), _canonical(event), hashlib.sha256).hexdigest()


def legacy_event_hash(event: AuditEvent) -> str:
    """The unkeyed hash of earlier versions; ``audit_reseal`` replaces it (governance/reseal.py)."""
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
    every = settings.AUDIT_CHECKPOINT_EVERY
    if every and event.pk % every == 0:
        from governance.checkpoints import audit_checkpoint

        transaction.on_commit(audit_checkpoint)
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str
    legacy: bool = False  # sealed by an earlier version without the key, in the prefix `audit_reseal` takes


def audit_verify(*, checkpoints: Iterable[Checkpoint] | None = None, key: str | None = None) -> Iterator[ChainBreak]:
    """Yield every place where the stored chain does not verify: a row whose content does not match its
    keyed hash, a link to a row that is not the one before it, and every checkpoint (by default those of
    ``AUDIT_CHECKPOINT_FILE``) that the chain does not match: a forged one, a head that differs (rows
    rewritten and re-hashed up to it), a different count (rows deleted or inserted) or a missing row
    (rows deleted from the tail). Of checkpoints made before the latest re-seal only the count is checked;
    those made with another key (before a re-key) are skipped."""
    from governance.checkpoints import checkpoint_key_id, checkpoint_read, checkpoint_valid

    if checkpoints is None:
        checkpoints = checkpoint_read(settings.AUDIT_CHECKPOINT_FILE)
    epoch = latest_reseal_id()
    key_id = checkpoint_key_id(key=key)
    anchors: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        if checkpoint.key_id != key_id:
            continue  # made with another key, before a re-key: neither checkable nor a forgery of this key
        if not checkpoint_valid(checkpoint, key=key):
            yield ChainBreak(checkpoint.last_id, f"checkpoint of {checkpoint.created_at} is forged (bad signature)")
        elif checkpoint.reseal > epoch:
            yield ChainBreak(
                checkpoint.reseal,
                f"checkpoint of {checkpoint.created_at} follows a re-seal (event {checkpoint.reseal}) the trail "
                "no longer holds: events deleted",
            )
        elif checkpoint.count > 0:
            anchors.setdefault(checkpoint.last_id, []).append(checkpoint)

    previous = GENESIS
    keyed_seen = False
    count = last_id = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if event.previous_hash != previous:
            yield ChainBreak(event.pk, "previous hash does not match the event before it (deleted or inserted row)")
        if event_hash(event, key=key) == event.hash:
            keyed_seen = True
        elif legacy_event_hash(event) == event.hash and not keyed_seen:
            yield ChainBreak(
                event.pk, "sealed with the unkeyed hash of earlier versions: run `audit_reseal` once", legacy=True
            )
        else:
            yield ChainBreak(event.pk, "content does not match its hash (modified row)")
        for checkpoint in anchors.pop(event.pk, []):
            # A re-seal re-hashes every row: checkpoints made before it still hold their count, not their head.
            if checkpoint.reseal == epoch and checkpoint.head != event.hash:
                yield ChainBreak(
                    event.pk,
                    f"hash differs from the checkpoint of {checkpoint.created_at}: events up to here were "
                    "rewritten and re-hashed",
                )
            elif checkpoint.count != count:
                yield ChainBreak(
                    event.pk,
                    f"the checkpoint of {checkpoint.created_at} counted {checkpoint.count} events up to here, "
                    f"the trail holds {count}: events deleted or inserted",
                )
        previous = event.hash
        last_id = event.pk

    missing = [anchor for group in anchors.values() for anchor in group]
    beyond = [anchor for anchor in missing if anchor.last_id > last_id]
    for anchor in sorted(set(missing) - set(beyond), key=lambda a: a.last_id):
        yield ChainBreak(anchor.last_id, f"missing: the checkpoint of {anchor.created_at} names this event")
    if beyond:
        latest = max(beyond, key=lambda a: (a.last_id, a.count))
        yield ChainBreak(
            latest.last_id,
            f"missing: the checkpoint of {latest.created_at} anchors {latest.count} events up to this id, the "
            f"trail ends at id {last_id} with {count}: events deleted from the tail",
        )


def latest_reseal_id() -> int:
    """The id of the latest re-seal (0: none); checkpoints made before it anchored the old hashes."""
    latest = AuditEvent.objects.filter(event_type=RESEAL_EVENT).order_by("-id").values_list("id", flat=True).first()
    return latest or 0
