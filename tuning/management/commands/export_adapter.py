from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.gates import command_actor
from accounts.roles import Role
from chatbot.llm.adapters import adapter_id_for_run
from tuning.services import tuning_run_export


class Command(BaseCommand):
    help = (
        "Write a run's LoRA adapter as a PEFT adapter directory (adapter_config.json, adapter_model.safetensors) "
        "for TGI's LORA_ADAPTERS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int)
        parser.add_argument("directory", type=Path, help="e.g. /adapters/tone-run-<id> on the adapters volume")
        parser.add_argument("--actor", help="knowledge admin recorded as having exported it")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = command_actor(options["actor"], Role.KNOWLEDGE_ADMIN) if options["actor"] else None
        try:
            directory = tuning_run_export(run_id=options["run_id"], directory=options["directory"], actor=actor)
        except Exception as error:
            raise CommandError(str(error)) from error
        name = adapter_id_for_run(options["run_id"])
        self.stdout.write(f"adapter of run {options['run_id']} written to {directory}")
        # The tgi client sends the promoted run's id as the model: TGI must load it under that name.
        self.stdout.write(f"add to LORA_ADAPTERS and restart tgi: {name}={directory}")
