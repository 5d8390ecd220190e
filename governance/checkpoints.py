"""Checkpoints of the audit chain's head, kept outside the database.

A checkpoint says: at this time the trail held ``count`` events, the newest with id ``last_id`` and hash
``head``, after the re-seal event ``reseal`` (0: none). It is signed with a key derived from ``AUDIT_KEY``
(named by ``key_id``, so that checkpoints made before a change of key are told apart from forged ones),
appended to ``AUDIT_CHECKPOINT_FILE`` and logged (logger ``governance.audit``, field ``audit_checkpoint``),
so a copy also lives wherever the logs are shipped. Someone who can write the database but not those files
and logs can no longer delete the newest events or re-hash the chain unnoticed: ``audit_verify`` checks the
chain against every checkpoint it is given.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from governance.audit import GENESIS, audit_key, latest_reseal_id
from governance.models import AuditEvent

logger = logging.getLogger("governance.audit")


@dataclass(frozen=True)
class Checkpoint:
    count: int
    last_id: int
    head: str
    reseal: int
    created_at: str
    key_id: str = ""
    signature: str = ""

    def signed_bytes(self) -> bytes:
        return f"{self.count}|{self.last_id}|{self.head}|{self.reseal}|{self.created_at}|{self.key_id}".encode()


def checkpoint_key_id(*, key: str | None = None) -> str:
    """A public name for the audit key (an HMAC of a constant: it reveals nothing about the key)."""
    return hmac.new(audit_key("checkpoint", key=key), b"key id", hashlib.sha256).hexdigest()[:16]


def checkpoint_signature(checkpoint: Checkpoint, *, key: str | None = None) -> str:
    return hmac.new(audit_key("checkpoint", key=key), checkpoint.signed_bytes(), hashlib.sha256).hexdigest()


def checkpoint_valid(checkpoint: Checkpoint, *, key: str | None = None) -> bool:
    return hmac.compare_digest(checkpoint.signature, checkpoint_signature(checkpoint, key=key))


def checkpoint_make() -> Checkpoint:
    """A signed checkpoint of the trail as committed now. Appends are serialised and ids grow in commit
    order, so the rows up to the newest id form a prefix that no later commit changes."""
    newest = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    last_id, head = newest if newest else (0, GENESIS)
    unsigned = Checkpoint(
        count=AuditEvent.objects.filter(id__lte=last_id).count(),
        last_id=last_id,
        head=head,
        reseal=latest_reseal_id(),
        created_at=timezone.now().isoformat(),
        key_id=checkpoint_key_id(),
    )
    return Checkpoint(**{**asdict(unsigned), "signature": checkpoint_signature(unsigned)})


def audit_checkpoint() -> Checkpoint:
    """Anchor the chain's head outside the database: a line in the checkpoint file and one in the log."""
    checkpoint = checkpoint_make()
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(checkpoint), sort_keys=True) + "\n"
    # One short write in append mode: lines from several processes never interleave.
    with path.open("a", encoding="utf-8") as file:
        file.write(line)
        file.flush()
        os.fsync(file.fileno())
    logger.info(
        "audit checkpoint: %d events up to id %d",
        checkpoint.count,
        checkpoint.last_id,
        extra={"audit_checkpoint": asdict(checkpoint)},
    )
    return checkpoint


def checkpoint_parse(lines: Iterable[str]) -> list[Checkpoint]:
    """Checkpoints in lines of the checkpoint file or of a JSON log export (other lines are skipped)."""
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("audit_checkpoint"), dict):
            record = record["audit_checkpoint"]
        try:
            found.append(
                Checkpoint(
                    count=int(record["count"]),
                    last_id=int(record["last_id"]),
                    head=str(record["head"]),
                    reseal=int(record["reseal"]),
                    created_at=str(record["created_at"]),
                    key_id=str(record["key_id"]),
                    signature=str(record["signature"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return found


def checkpoint_read(path: Path | str) -> list[Checkpoint]:
    path = Path(path)
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as file:
        return checkpoint_parse(file)


def checkpoint_latest(checkpoints: Iterable[Checkpoint], *, key: str | None = None) -> Checkpoint | None:
    valid = [checkpoint for checkpoint in checkpoints if checkpoint_valid(checkpoint, key=key)]
    return max(valid, key=lambda c: (c.reseal, c.last_id, c.created_at), default=None)
