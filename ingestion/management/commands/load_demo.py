from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ingestion.demo import DEMO_PASSWORD, PERSONAS, demo_corpus_load, demo_users_ensure


class Command(BaseCommand):
    help = "Create the demo personas and index the demo corpus (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        users = demo_users_ensure()
        summary = demo_corpus_load()
        self.stdout.write(
            f"demo: {users} users created; documents indexed {summary.documents_indexed}, "
            f"unchanged {summary.documents_unchanged}, failed {summary.documents_failed}"
        )
        names = ", ".join(persona.username for persona in PERSONAS)
        self.stdout.write(f"demo users ({names}) sign in with password {DEMO_PASSWORD!r}")
