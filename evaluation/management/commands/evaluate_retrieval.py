"""``python manage.py evaluate_retrieval --beir DIR [--mode bm25|dense|hybrid] [--backend embedded|elasticsearch]
[--k 10] [--json FILE] [--per-query FILE]``: retrieval quality and speed on a BEIR-layout folder (see
evaluation/retrieval.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.retrieval import retrieval_evaluate
from ingestion.search.base import SEARCH_MODES


class Command(BaseCommand):
    help = "Index a BEIR folder into a throwaway index with the upload pipeline, run its queries, print metrics."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--beir", required=True, type=Path, help="folder with corpus.jsonl, queries.jsonl, qrels/")
        parser.add_argument("--mode", choices=SEARCH_MODES, default="hybrid")
        parser.add_argument("--backend", choices=("embedded", "elasticsearch"), default="embedded")
        parser.add_argument("--k", type=int, default=10, help="cut-off of nDCG, recall and MRR (recall@100 always)")
        parser.add_argument("--json", type=Path, help="also write the figures to this file")
        parser.add_argument(
            "--per-query",
            type=Path,
            help="also write one JSON line per query: its nDCG, first relevant rank, judged and ranked documents",
        )
        parser.add_argument(
            "--no-embedding-cache",
            action="store_true",
            help="embed everything afresh and keep nothing (default: reuse EVALUATION_EMBEDDING_CACHE)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["beir"]
        if not (directory / "corpus.jsonl").is_file():
            raise CommandError(f"{directory} has no corpus.jsonl: not a BEIR folder")
        if options["k"] < 1:
            raise CommandError("--k must be at least 1")
        cache_setting = settings.EVALUATION_EMBEDDING_CACHE
        cache = None if options["no_embedding_cache"] or not cache_setting else Path(cache_setting)
        try:
            report = retrieval_evaluate(
                directory=directory,
                mode=options["mode"],
                backend_name=options["backend"],
                k=options["k"],
                embedding_cache=cache,
                progress=options["verbosity"] > 0,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        figures = report.as_dict()
        width = max(len(key) for key in figures)
        for key, value in figures.items():
            if key != "by_judgement_check":
                self.stdout.write(f"{key:<{width}}  {value}")
        if report.by_judgement_check:
            self.stdout.write("judged documents against the evidence sentences of answers.jsonl:")
            for check, values in report.by_judgement_check.items():
                self.stdout.write(f"  {check:<20}  " + "  ".join(f"{name} {value}" for name, value in values.items()))
        if options["per_query"]:
            lines = (json.dumps(row) + "\n" for row in report.per_query)
            options["per_query"].write_text("".join(lines), encoding="utf-8")
        if options["json"]:
            options["json"].write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
