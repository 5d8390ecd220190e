from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ops.readiness import readiness_report


class Command(BaseCommand):
    help = "Check the database, Redis, the search backend and the generator, as /health/ready does."

    def handle(self, *args: Any, **options: Any) -> None:
        report = readiness_report()
        self.stdout.write(json.dumps(report, indent=2))
        if report["failed"]:
            raise CommandError(f"not ready: {', '.join(report['failed'])}")
