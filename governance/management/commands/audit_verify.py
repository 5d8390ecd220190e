from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.audit import audit_verify
from governance.checkpoints import checkpoint_latest, checkpoint_read
from governance.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Verify the audit trail's keyed hash chain against the checkpoints of its head and report every break "
        "(modified, inserted or deleted rows, rows deleted from the tail, a re-hashed chain)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints",
            type=Path,
            action="append",
            help="a checkpoint file or JSON log export to check against (repeatable; default AUDIT_CHECKPOINT_FILE)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths = options["checkpoints"] or [settings.AUDIT_CHECKPOINT_FILE]
        checkpoints = [checkpoint for path in paths for checkpoint in checkpoint_read(path)]
        breaks = list(audit_verify(checkpoints=checkpoints))
        for item in breaks:
            self.stderr.write(f"event {item.event_id}: {item.reason}")
        total = AuditEvent.objects.count()
        if breaks:
            raise CommandError(f"audit trail broken at {len(breaks)} place(s) out of {total} events")
        latest = checkpoint_latest(checkpoints)
        if latest is None:
            anchored = "no checkpoint: deleted newest events would go unnoticed (run `audit_checkpoint`)"
        else:
            newer = AuditEvent.objects.filter(id__gt=latest.last_id).count()
            anchored = f"anchored by the checkpoint of {latest.created_at} up to event {latest.last_id}"
            anchored += f", {newer} newer event(s) not anchored yet" if newer else ""
        self.stdout.write(f"audit trail intact: {total} events verified; {anchored}")
