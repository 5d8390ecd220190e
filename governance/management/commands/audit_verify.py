from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.audit import audit_verify
from governance.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and report every break."

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = list(audit_verify())
        for item in breaks:
            self.stderr.write(f"event {item.event_id}: {item.reason}")
        total = AuditEvent.objects.count()
        if breaks:
            raise CommandError(f"audit trail broken at {len(breaks)} place(s) out of {total} events")
        self.stdout.write(f"audit trail intact: {total} events verified")
