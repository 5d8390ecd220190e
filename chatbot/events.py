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


class RetrievedEvent(TypedDict):
    """Sent once the search is done and an answer will be written: the passages found, numbered as the
    answer will cite them (``sources`` later lists only the cited ones). Not sent before a refusal."""

    type: Literal["retrieved"]
    sources: list[Source]


class SourcesEvent(TypedDict):
    type: Literal["sources"]
    sources: list[Source]


FallbackReason = Literal["", "error", "timeout", "unsupported"]


class DoneEvent(TypedDict):
    type: Literal["done"]
    message_id: int
    model: str
    adapter: str
    fallback: bool  # the generator could not answer: the answer quotes the passages' sentences instead
    fallback_reason: FallbackReason  # why: it failed, ran out of time, or what it said was not supported
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


ServerEvent = ConversationEvent | RetrievedEvent | TokenEvent | SourcesEvent | DoneEvent | ErrorEvent
