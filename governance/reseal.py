"""Re-seal the audit trail, once, after upgrading from the unkeyed chain of earlier versions.

Earlier versions hashed the chain with plain SHA-256 and kept ``<name>_sha256``, an unkeyed digest of each
audited text: anyone holding an export could confirm a guessed name or DNI with it. ``audit_reseal``
checks the stored chain first (the unkeyed rows must form an intact prefix, keyed rows may follow, every
checkpoint must match), then, in one transaction, removes those digests, re-hashes every row with the keyed
chain and appends an ``audit.resealed`` event saying what it did; a checkpoint follows the commit. It
refuses a trail that does not verify, so it cannot bless a change made before it ran.

The same re-seal changes the audit key (``previous_key``: the key the trail was sealed with; ``AUDIT_KEY``
is the new one): the trail and its checkpoints are checked with the previous key, every row is re-hashed
with the new one. Text digests (``<name>_hmac``) cannot be recomputed without the original text: those
written before the re-key stay digests under the previous key, which the event names by its key id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction

from governance.audit import GENESIS, RESEAL_EVENT, audit_key, audit_record, audit_verify, event_hash
from governance.models import AuditEvent

_LEGACY_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_TRIGGER = "governance_audit_append_only"
_BATCH = 1000


class ResealRefused(Exception):
    pass


@dataclass(frozen=True)
class ResealReport:
    events: int
    legacy_events: int
    redacted_digests: int
    event: AuditEvent


def _without_legacy_digests(data: Any) -> tuple[Any, list[str]]:
    if not isinstance(data, dict):
        return data, []
    dropped = [k for k, v in data.items() if k.endswith("_sha256") and isinstance(v, str) and _LEGACY_DIGEST.match(v)]
    return {k: v for k, v in data.items() if k not in dropped}, dropped


def _set_trigger(enabled: bool) -> None:
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            state = "ENABLE" if enabled else "DISABLE"
            cursor.execute(f"ALTER TABLE governance_auditevent {state} TRIGGER {_TRIGGER}")
    except DatabaseError as error:
        raise ResealRefused(
            f"cannot suspend the append-only trigger ({error}): run as the role that owns the audit table "
            "(the one that runs migrations)"
        ) from error


@transaction.atomic
def audit_reseal(*, actor: Any = None, previous_key: str | None = None) -> ResealReport:
    """Replace the unkeyed chain and digests of earlier versions, or the chain sealed with ``previous_key``,
    by the chain keyed with ``AUDIT_KEY`` (see the module)."""
    from governance.checkpoints import audit_checkpoint, checkpoint_key_id

    _set_trigger(False)  # also takes the table's lock: no append runs while the rows are re-hashed
    breaks = list(audit_verify(key=previous_key))
    broken = [item for item in breaks if not item.legacy]
    if broken:
        listed = "; ".join(f"event {item.event_id}: {item.reason}" for item in broken[:5])
        raise ResealRefused(f"the trail does not verify, nothing was changed ({len(broken)} breaks: {listed})")
    old_head = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    previous, events, redacted, fields, after = GENESIS, 0, 0, set(), 0
    while batch := list(AuditEvent.objects.filter(id__gt=after).order_by("id")[:_BATCH]):
        for event in batch:
            event.data, dropped = _without_legacy_digests(event.data)
            redacted += len(dropped)
            fields.update(dropped)
            event.previous_hash = previous
            event.hash = previous = event_hash(event)
        AuditEvent.objects.bulk_update(batch, ["data", "previous_hash", "hash"])
        events += len(batch)
        after = batch[-1].pk
    legacy_events = sum(item.legacy for item in breaks)
    rekey = previous_key is not None and checkpoint_key_id(key=previous_key) != checkpoint_key_id()
    if not legacy_events and not redacted and not rekey:
        raise ResealRefused("the trail is already keyed and holds no unkeyed digests: nothing to re-seal")
    _set_trigger(True)
    event = audit_record(
        event_type=RESEAL_EVENT,
        actor=actor,
        data={
            "events": events,
            "legacy_events": legacy_events,
            "redacted_digests": redacted,
            "redacted_fields": sorted(fields),
            # Text digests written before this event are HMACs under the key with this id.
            "previous_key_id": checkpoint_key_id(key=previous_key) if rekey else None,
            "key_id": checkpoint_key_id(),
            # Binds the re-seal to the chain it replaced, for whoever holds the key and an older backup,
            # without publishing the old unkeyed head (an unkeyed hash of the newest event's content).
            "previous_head_hmac": hmac.new(audit_key("chain"), old_head.encode(), hashlib.sha256).hexdigest(),
            "rekeyed": rekey,
        },
    )
    transaction.on_commit(audit_checkpoint)
    return ResealReport(events=events, legacy_events=legacy_events, redacted_digests=redacted, event=event)
