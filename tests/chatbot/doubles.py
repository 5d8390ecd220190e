"""A slow generator for the websocket orchestration tests (stop, one answer at a time): selected through
``LLM_BACKENDS`` like any backend, so the consumer runs unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from chatbot.llm import GenerationRequest


class SlowClient:
    model_name = "slow"
    delay = 0.2
    pieces = 50

    @classmethod
    def from_settings(cls) -> SlowClient:
        return cls()

    def adapter_for(self, request: GenerationRequest) -> str:
        return ""

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        # A sentence the vacation policy supports (uncited, so it is checked against every passage found),
        # so the grounding gate releases each as it completes.
        for _ in range(self.pieces):
            await asyncio.sleep(self.delay)
            yield "Toda persona empleada disfruta de 23 días laborables de vacaciones al año. "
