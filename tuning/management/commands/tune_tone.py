from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.gates import command_actor
from accounts.roles import Role
from tuning.services import tuning_run_create, tuning_run_execute
from tuning.train import Progress, TrainingParams


class Command(BaseCommand):
    help = "Train a LoRA tone adapter on a dataset snapshot, evaluate it and store the run."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = TrainingParams()
        parser.add_argument("--dataset", type=int, required=True, help="dataset snapshot id")
        parser.add_argument("--epochs", type=int, default=defaults.epochs)
        parser.add_argument("--rank", type=int, default=defaults.rank)
        parser.add_argument("--lr", type=float, default=defaults.lr)
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
        parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: no limit)")
        parser.add_argument("--eval-tokens", type=int, default=defaults.eval_max_new_tokens)
        parser.add_argument(
            "--grounding-questions", type=int, default=0, help="use the first N of the grounding set (0: all)"
        )
        parser.add_argument("--grounding-tokens", type=int, default=defaults.grounding_max_new_tokens)
        parser.add_argument("--actor", help="knowledge admin recorded as having started the run")
        parser.add_argument("--queue", action="store_true", help="send to the 'training' Celery queue instead")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = command_actor(options["actor"], Role.KNOWLEDGE_ADMIN) if options["actor"] else None
        params = TrainingParams(
            epochs=options["epochs"],
            rank=options["rank"],
            lr=options["lr"],
            seed=options["seed"],
            batch_size=options["batch_size"],
            max_steps=options["max_steps"],
            eval_max_new_tokens=options["eval_tokens"],
            grounding_questions=options["grounding_questions"],
            grounding_max_new_tokens=options["grounding_tokens"],
        )
        try:
            run = tuning_run_create(
                snapshot_id=options["dataset"], started_by=actor, params=params, queue=options["queue"]
            )
        except Exception as error:
            raise CommandError(str(error)) from error
        if options["queue"]:
            self.stdout.write(f"run {run.pk} queued on 'training'")
            return

        def progress(p: Progress) -> None:
            self.stdout.write(f"step {p.step}/{p.total_steps} epoch {p.epoch} loss {p.loss:.4f}")

        run = tuning_run_execute(run_id=run.pk, on_progress=progress)
        m = run.metrics
        g = m["grounding"]
        self.stdout.write(
            f"run {run.pk}: held-out loss {m['loss_before']} -> {m['loss_after']}, "
            f"tone {m['tone_base']} (base) -> {m['tone_adapter']} (adapter), {m['train_seconds']} s training; "
            f"grounding on {g['questions']} questions {g['base']} (base) -> {g['adapter']} (adapter), "
            f"worse: {g['regressions'] or 'none'}; regressed={m['regressed']}; adapter in {run.artifact_path}"
        )
