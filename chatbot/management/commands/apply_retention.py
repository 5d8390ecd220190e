"""``python manage.py apply_retention [--days N]``: delete conversations older than ``CHAT_RETENTION_DAYS``
(see chatbot/retention.py); audit events are never deleted."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chatbot.retention import retention_apply


class Command(BaseCommand):
    help = "Delete conversations not updated for CHAT_RETENTION_DAYS days (0 keeps them); the audit trail stays."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="override CHAT_RETENTION_DAYS for this run")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = retention_apply(days=options["days"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        if report.cutoff is None:
            self.stdout.write("retention is off (CHAT_RETENTION_DAYS=0): nothing deleted")
            return
        self.stdout.write(
            f"deleted {report.conversations} conversations ({report.messages} messages) "
            f"last updated before {report.cutoff:%Y-%m-%d %H:%M %Z}"
        )
