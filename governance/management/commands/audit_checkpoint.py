from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from governance.checkpoints import audit_checkpoint


class Command(BaseCommand):
    help = "Anchor the audit chain's head outside the database: a signed line in AUDIT_CHECKPOINT_FILE and the log."

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = audit_checkpoint()
        self.stdout.write(
            f"checkpoint: {checkpoint.count} events up to id {checkpoint.last_id}, head {checkpoint.head[:16]}… "
            f"({settings.AUDIT_CHECKPOINT_FILE})"
        )
