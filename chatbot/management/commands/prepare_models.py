from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from chatbot.llm.local import LocalLLMClient
from ingestion.embed import get_embedder


class Command(BaseCommand):
    help = "Load the embedding model and, for LLM_BACKEND=local, convert the packaged GGUF once (no downloads)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        get_embedder()
        self.stdout.write(f"embedding model ready ({time.monotonic() - started:.1f} s)")
        if settings.LLM_BACKEND == "local":
            started = time.monotonic()
            self.stdout.write("preparing the local generator (the first time converts it, ~20-45 s)…")
            LocalLLMClient.from_settings().load()
            self.stdout.write(f"local generator ready ({time.monotonic() - started:.1f} s)")
