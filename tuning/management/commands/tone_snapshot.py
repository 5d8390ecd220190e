from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.gates import command_actor
from accounts.roles import Role
from tuning.dataset import examples_import, snapshot_create
from tuning.models import ToneExample


class Command(BaseCommand):
    help = "Snapshot the approved tone examples (pseudonymised) for training; optionally import some first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", required=True, help="the knowledge admin approving the snapshot")
        parser.add_argument("--import", dest="import_file", type=Path, help="JSON Lines of {question, answer}")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = command_actor(options["actor"], Role.KNOWLEDGE_ADMIN)
        if options["import_file"]:
            imported = examples_import(path=options["import_file"], author=actor)
            self.stdout.write(f"imported {len(imported)} approved tone examples")
        snapshot = snapshot_create(approved_by=actor, examples=ToneExample.objects.filter(approved=True))
        self.stdout.write(
            f"snapshot {snapshot.pk}: {len(snapshot.examples)} examples, hash {snapshot.content_hash}, "
            f"PII {snapshot.pii_report}"
        )
