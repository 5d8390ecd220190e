from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ingestion.bulk import documents_load_paths, paths_collect


class Command(BaseCommand):
    help = "Index files or folders in this process: new files, new versions of changed ones; unchanged are skipped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="Files or folders.")
        parser.add_argument(
            "--groups", default="", help="Comma-separated groups that may see them (default: all staff)."
        )
        parser.add_argument("--tags", default="", help="Comma-separated tags.")
        parser.add_argument("--recursive", action="store_true", help="Read folders all the way down.")

    def handle(self, *args: Any, **options: Any) -> None:
        missing = [str(path) for path in options["paths"] if not path.exists()]
        if missing:
            raise CommandError(f"not found: {', '.join(missing)}")
        files = list(paths_collect(options["paths"], recursive=options["recursive"]))
        groups = [name.strip() for name in options["groups"].split(",") if name.strip()]
        tags = [name.strip() for name in options["tags"].split(",") if name.strip()]
        with tqdm(total=len(files), unit="file", file=self.stderr, disable=not files) as bar:
            summary = documents_load_paths(
                paths=files, owner=None, group_names=groups, tags=tags, on_file=lambda _: bar.update(1)
            )
        self.stdout.write(
            f"indexed {len(summary.indexed)}, skipped unchanged {len(summary.unchanged)}, failed {len(summary.failed)}"
        )
        for name, reason in summary.failed:
            self.stdout.write(f"  failed: {name}: {reason}")
