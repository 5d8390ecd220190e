from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from ingestion.bulk import documents_reindex
from ingestion.models import Document


class Command(BaseCommand):
    help = (
        "Rebuild the index from the stored originals: documents not indexed with the current embedding model "
        "(or failed), each replaced in one step; --all clears the index first and rebuilds every document."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Clear the index and rebuild every document.")
        parser.add_argument(
            "--model-changed",
            action="store_true",
            help="Only indexed documents embedded with another model than EMBEDDING_MODEL (failed ones stay).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bar = tqdm(unit="doc", file=self.stderr)
        ids, documents = documents_reindex(
            everything=options["all"], model_changed=options["model_changed"], on_document=lambda _: bar.update(1)
        )
        bar.close()
        failed = [document for document in documents if document.status != Document.Status.INDEXED]
        self.stdout.write(f"reindexed {len(documents) - len(failed)} of {len(ids)}, failed {len(failed)}")
        for document in failed:
            self.stdout.write(f"  failed: {document.title}: {document.status_reason}")
