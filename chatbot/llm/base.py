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
class GenerationRequest:
    question: str
    language: str
    passages: tuple[Passage, ...]
    messages: tuple[ChatMessage, ...]  # the full prompt for generators that take one
    max_new_tokens: int = 200


class GenerationError(Exception):
    """The generator could not answer (unreachable, failed, or out of time)."""


class LLMClient(Protocol):
    """``stream`` yields the answer as it is produced, piece by piece; the concatenation is the answer.
    It raises ``GenerationError`` (or lets the caller's timeout cancel it) when it cannot answer."""

    model_name: str

    def stream(self, request: GenerationRequest) -> AsyncIterator[str]: ...
