"""``python manage.py import_gold_set (--file FILE | --beir DIR --name NAME)``: store a gold set (see
evaluation/goldsets.py). Importing a set again replaces its questions; its runs stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.goldsets import gold_set_import_beir, gold_set_import_file


class Command(BaseCommand):
    help = "Import a gold set from a JSON file or from a BEIR folder with answers.jsonl."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", type=Path, help="JSON gold set (evaluation/goldsets/demo.json)")
        source.add_argument("--beir", type=Path, help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/, answers.jsonl")
        parser.add_argument("--name", help="name of the set (required with --beir)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["file"]:
                gold_set = gold_set_import_file(path=options["file"], name=options["name"])
            else:
                if not options["name"]:
                    raise CommandError("--beir needs --name")
                if not (options["beir"] / "corpus.jsonl").is_file():
                    raise CommandError(f"{options['beir']} has no corpus.jsonl: not a BEIR folder")
                gold_set = gold_set_import_beir(directory=options["beir"], name=options["name"])
        except (OSError, ValueError, KeyError) as error:
            raise CommandError(str(error)) from error
        questions = gold_set.questions.count()
        unanswerable = gold_set.questions.filter(answerable=False).count()
        self.stdout.write(f"gold set {gold_set.name}: {questions} questions ({unanswerable} unanswerable)")
