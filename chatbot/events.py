"""Every websocket message type of the chat protocol (documented in docs/protocol.md)."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

# --- client -> server ---------------------------------------------------------------------------


class AskEvent(TypedDict):
    type: Literal["ask"]
    conversation: int | None
    question: str


class StopEvent(TypedDict):
    """Stop the answer being generated on this socket; it ends with ``done`` and ``stopped: true``."""

    type: Literal["stop"]


# --- server -> client ---------------------------------------------------------------------------


class Source(TypedDict):
    n: int
    document_id: int
    title: str
    location: str
    quote: str
    url: str


class ConversationEvent(TypedDict):
    type: Literal["conversation"]
    id: int
    title: str


class TokenEvent(TypedDict):
    type: Literal["token"]
    text: str


class SourcesEvent(TypedDict):
    type: Literal["sources"]
    sources: list[Source]


class DoneEvent(TypedDict):
    type: Literal["done"]
    message_id: int
    model: str
    adapter: str
    fallback: bool  # the generator failed or ran out of time: the answer quotes passages
    refused: bool  # the evidence was too weak: Faro said so and did not call the generator
    stopped: bool  # the person stopped it; the text is what was said until then
    confidence: Literal["high", "medium", "low"]
    text: str  # the final answer as stored (Markdown, citations checked)
    html: str  # the final answer (citations checked) as sanitised HTML, replacing the streamed text
    unsupported: int  # sentences no cited passage supports (flagged in the stored message)


ErrorCode = Literal["invalid", "too_large", "unknown_type", "not_found", "rate_limited", "busy", "internal"]


class ErrorEvent(TypedDict):
    type: Literal["error"]
    code: ErrorCode
    message: str
    retry_after: NotRequired[int]  # seconds, with "rate_limited"


ServerEvent = ConversationEvent | TokenEvent | SourcesEvent | DoneEvent | ErrorEvent
