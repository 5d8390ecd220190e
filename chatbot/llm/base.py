"""The generation contract: an async stream of text pieces for one grounded request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, TypedDict


class ChatMessage(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Passage:
    n: int
    title: str
    location: str
    text: str


@dataclass(frozen=True)
class EvidenceSentence:
    """A sentence of passage ``n`` chosen to answer the question (``chatbot.rag.sentences``), verbatim but
    for Markdown markup."""

    n: int
    text: str
    score: float
    title: str = ""  # of the sentence's document
    location: str = ""  # its section and page, as the source list shows them


@dataclass(frozen=True)
class GenerationRequest:
    question: str
    language: str
    passages: tuple[Passage, ...]
    messages: tuple[ChatMessage, ...]  # the full prompt for generators that take one
    max_new_tokens: int = 200
    adapter: str = ""  # a LoRA adapter id for servers that load several (TGI selects it by "model"); "" = base
    evidence: tuple[EvidenceSentence, ...] = ()  # the sentences that answer, best first (the extractive answer)


class GenerationError(Exception):
    """The generator could not answer (unreachable, failed, or out of time)."""


class LLMClient(Protocol):
    """``stream`` yields the answer as it is produced, piece by piece; the concatenation is the answer.
    It raises ``GenerationError`` (or lets the caller's timeout cancel it) when it cannot answer. Closing
    or cancelling the stream stops the generation (the caller's stop button and timeout rely on it).

    ``model_name`` is recorded with every answer; ``adapter_for(request)`` names the adapter that serves a
    request ("" for the base model)."""

    model_name: str

    def adapter_for(self, request: GenerationRequest) -> str: ...

    def stream(self, request: GenerationRequest) -> AsyncIterator[str]: ...
