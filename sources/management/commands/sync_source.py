from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sources.models import Source
from sources.readers import SourceError
from sources.services import SourceBusy, source_sync


class Command(BaseCommand):
    help = "Sync a source (or every source) now, in this process; its documents are queued for indexing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="the source's name")
        parser.add_argument("--all", action="store_true", help="every source")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["name"]) == bool(options["all"]):
            raise CommandError("Give a source's name or --all.")
        sources = Source.objects.all() if options["all"] else Source.objects.filter(name=options["name"])
        if not sources.exists():
            raise CommandError(f"No source named {options['name']!r}.")
        failed = False
        for source in sources:
            try:
                result = source_sync(source_id=source.pk)
            except SourceBusy:
                self.stdout.write(f"{source.name}: already being synced")
                continue
            except SourceError as error:
                self.stderr.write(f"{source.name}: {error}")
                failed = True
                continue
            self.stdout.write(
                f"{source.name}: added {len(result.added)}, changed {len(result.changed)}, moved "
                f"{len(result.moved)}, removed {len(result.removed)}, unchanged {result.unchanged}, "
                f"failed {len(result.failed)}"
            )
            for key, reason in result.failed:
                self.stdout.write(f"  {key}: {reason}")
        if failed:
            raise CommandError("Some sources could not be read.")
