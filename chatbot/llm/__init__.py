from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from chatbot.llm.base import ChatMessage, GenerationError, GenerationRequest, LLMClient, Passage

__all__ = ["ChatMessage", "GenerationError", "GenerationRequest", "LLMClient", "Passage", "get_llm_client"]


def get_llm_client(backend: str | None = None) -> LLMClient:
    """The configured generator (``LLM_BACKEND``), built once per process; heavy imports happen inside."""
    return _client(backend or settings.LLM_BACKEND)


@cache
def _client(backend: str) -> LLMClient:
    client_class = import_string(settings.LLM_BACKENDS[backend])
    client: LLMClient = client_class.from_settings()  # a class named in settings is Any until here
    return client
