from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from governance.reseal import ResealRefused, audit_reseal


class Command(BaseCommand):
    help = (
        "Once, after upgrading from the unkeyed audit chain, or to change AUDIT_KEY: check the trail, drop the "
        "unkeyed text digests, re-hash every event with AUDIT_KEY and record it as an audit.resealed event "
        "(governance/reseal.py)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", help="username recorded as the one who ran it")
        parser.add_argument(
            "--previous-key-file", type=Path, help="changing the key: a file holding the key the trail was sealed with"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"no user {options['actor']!r}")
        try:
            previous = options["previous_key_file"]
            previous_key = previous.read_text(encoding="utf-8").strip() if previous else None
            report = audit_reseal(actor=actor, previous_key=previous_key)
        except ResealRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(
            f"re-sealed {report.events} events ({report.legacy_events} unkeyed), removed {report.redacted_digests} "
            f"unkeyed text digests{'; new key' if report.event.data['rekeyed'] else ''}; "
            f"recorded as event {report.event.pk}"
        )
