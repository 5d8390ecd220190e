from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ingestion.services import documents_restamp


class Command(BaseCommand):
    help = (
        "Stamp every indexed chunk with its document's access as the database holds it now (no re-embedding): "
        "after restoring the index from a snapshot, or when an access change could not reach the index."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = documents_restamp()
        self.stdout.write(f"re-stamped {count} documents")
