"""Text Generation Inference (or any server with the OpenAI-compatible Messages API: vLLM, llama.cpp's
server) over HTTP, streamed as server-sent events from ``/v1/chat/completions``.

- Plain httpx (the ``httpx2`` build huggingface_hub uses) rather than huggingface_hub's
  ``AsyncInferenceClient``: that client refuses every request once ``HF_HUB_OFFLINE`` is set, and the web
  process sets it (the embedder must never download), so it could not reach our own TGI server.
- One HTTP client per request, closed when the stream ends or is abandoned, so a stopped answer closes
  its connection and the server stops generating.
- ``timeout`` bounds connecting and each read (the answer flow bounds the whole answer).
- Connection failures before the first token are retried ``retries`` times with a short back-off; once a
  token has arrived nothing is retried (the caller falls back to quoted passages).
- The request's ``adapter`` goes in the ``model`` field, which is how TGI picks one of its LoRA adapters
  (``LORA_ADAPTERS``). Without one, the promoted tone adapter (``chatbot.llm.adapters``) is sent when TGI
  loads it (its id is among ``TGI_ADAPTERS``, i.e. it was exported with ``export_adapter`` and named in
  ``LORA_ADAPTERS``); otherwise the configured ``TGI_MODEL``, the base model. ``TGI_TOKEN`` is sent as a
  bearer token.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

from chatbot.llm.adapters import promoted_adapter
from chatbot.llm.base import GenerationError, GenerationRequest

logger = logging.getLogger(__name__)

TEMPERATURE = 0.2


class TGIClient:
    def __init__(
        self,
        base_url: str,
        *,
        model: str = "tgi",
        token: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
        adapters: tuple[str, ...] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model_name = model
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.adapters = adapters  # the LoRA adapters the server loads

    @classmethod
    def from_settings(cls) -> TGIClient:
        from django.conf import settings

        if not settings.TGI_URL:
            raise GenerationError("LLM_BACKEND=tgi needs TGI_URL")
        return cls(
            settings.TGI_URL,
            model=settings.TGI_MODEL,
            token=settings.TGI_TOKEN,
            timeout=settings.GENERATOR_TIMEOUT_SECONDS,
            retries=settings.TGI_RETRIES,
            adapters=tuple(settings.TGI_ADAPTERS),
        )

    def adapter_for(self, request: GenerationRequest) -> str:
        if request.adapter:
            return request.adapter
        promoted = promoted_adapter()
        # A promoted adapter TGI was not started with would fail every request: the base model answers
        # until it is exported and named in LORA_ADAPTERS.
        return promoted.id if promoted is not None and promoted.id in self.adapters else ""

    def completions_url(self) -> str:
        return (
            f"{self.base_url}/chat/completions"
            if self.base_url.endswith("/v1")
            else f"{self.base_url}/v1/chat/completions"
        )

    def request_body(self, request: GenerationRequest) -> dict[str, object]:
        """The streamed chat completion asked for: the adapter (or the base model) in ``model``."""
        return {
            "model": self.adapter_for(request) or self.model_name,
            "messages": [dict(message) for message in request.messages],
            "max_tokens": request.max_new_tokens,
            "temperature": TEMPERATURE,
            "stream": True,
        }

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        import httpx2

        body = self.request_body(request)
        headers = {"Accept": "text/event-stream"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in range(self.retries + 1):
            started = False
            try:
                async with (
                    httpx2.AsyncClient(timeout=self.timeout) as client,
                    client.stream("POST", self.completions_url(), json=body, headers=headers) as response,
                ):
                    if response.status_code >= 400:
                        detail = (await response.aread()).decode(errors="replace")[:300]
                        raise GenerationError(f"TGI answered {response.status_code}: {detail}")
                    async for line in response.aiter_lines():
                        piece = _delta(line)
                        if piece:
                            started = True
                            yield piece
                return
            except httpx2.ConnectError as error:
                if started or attempt == self.retries:
                    raise GenerationError(f"TGI unreachable at {self.base_url}: {error}") from error
                logger.info("TGI unreachable (attempt %d), retrying: %s", attempt + 1, error)
                await asyncio.sleep(self.backoff * 2**attempt)
            except GenerationError:
                raise
            except Exception as error:  # HTTP, timeout and protocol errors all mean "no answer from TGI"
                raise GenerationError(f"TGI request failed: {error!r}") from error


def _delta(line: str) -> str:
    """The text of one server-sent event line of a streamed chat completion ("" for anything else)."""
    if not line.startswith("data:"):
        return ""
    data = line[len("data:") :].strip()
    if not data or data == "[DONE]":
        return ""
    try:
        event = json.loads(data)
    except ValueError as error:
        raise GenerationError(f"TGI sent something that is not JSON: {data[:100]}") from error
    if event.get("error"):
        raise GenerationError(f"TGI reported an error: {str(event['error'])[:200]}")
    choices = event.get("choices") or []
    content = (choices[0].get("delta") or {}).get("content") if choices else None
    return content if isinstance(content, str) else ""
