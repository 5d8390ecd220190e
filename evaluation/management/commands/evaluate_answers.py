"""``python manage.py evaluate_answers --set NAME [--json FILE] [--limit N] [--repeats 3] [--no-bias-probe]``:
ask a gold set's questions through the real answer flow, store the run and print its metrics (see
evaluation/answers.py). The demo set is imported from the repository on first use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluation.answers import answers_evaluate
from evaluation.goldsets import DEMO_GOLD_SETS, gold_set_demo_ensure
from evaluation.models import GoldSet


class Command(BaseCommand):
    help = "Evaluate the answer flow on a gold set; the run is stored for the evaluation dashboard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--set", required=True, dest="gold_set", help="gold set name (import_gold_set)")
        parser.add_argument("--json", type=Path, help="also write the run (metrics and details) to this file")
        parser.add_argument("--limit", type=int, help="only the first N questions")
        parser.add_argument("--repeats", type=int, default=3, help="times each question is asked (stability)")
        parser.add_argument("--no-bias-probe", action="store_true", help="skip the paired gender/origin questions")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["gold_set"]
        gold_set = gold_set_demo_ensure(name) if name in DEMO_GOLD_SETS else GoldSet.objects.filter(name=name).first()
        if gold_set is None:
            raise CommandError(f"no gold set {name!r} (import it with import_gold_set)")
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        verbose = options["verbosity"] > 1
        try:
            run = answers_evaluate(
                gold_set=gold_set,
                limit=options["limit"],
                repeats=options["repeats"],
                bias_probe=not options["no_bias_probe"],
                progress=self.stdout.write if verbose else None,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        header = {
            "gold_set": gold_set.name,
            "run": run.pk,
            "questions": run.questions,
            "repeats": run.repeats,
            "model": run.model,
            "adapter": run.adapter or "-",
            "index_version": run.index_version,
            "duration_seconds": run.duration_seconds,
        }
        width = max(len(key) for key in [*header, *run.metrics])
        for key, value in [*header.items(), *run.metrics.items()]:
            self.stdout.write(f"{key:<{width}}  {'-' if value is None else value}")
        for regression in run.regressions:
            self.stdout.write(f"REGRESSION {regression['metric']}: {regression['previous']} -> {regression['value']}")
        if options["json"]:
            payload = {**header, "metrics": run.metrics, "regressions": run.regressions, "details": run.details}
            options["json"].write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
