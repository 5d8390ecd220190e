"""Text Generation Inference (or any server with the OpenAI-compatible Messages API) over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chatbot.llm.base import GenerationError, GenerationRequest


class TGIClient:
    def __init__(self, base_url: str, *, model: str = "tgi", token: str | None = None, timeout: float = 60.0) -> None:
        from huggingface_hub import AsyncInferenceClient

        self.model_name = model
        self._client = AsyncInferenceClient(base_url=base_url, token=token, timeout=timeout)

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
        )

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        try:
            chunks = await self._client.chat_completion(
                messages=[dict(message) for message in request.messages],
                model=self.model_name,
                max_tokens=request.max_new_tokens,
                temperature=0.2,
                stream=True,
            )
            async for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except Exception as error:  # network, HTTP and protocol errors all mean "no answer from TGI"
            raise GenerationError(f"TGI request failed: {error}") from error
