"""Every websocket message type of the chat protocol (documented in the README)."""

from __future__ import annotations

from typing import Literal, TypedDict


class AskEvent(TypedDict):
    type: Literal["ask"]
    conversation: int | None
    question: str


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
    fallback: bool


class ErrorEvent(TypedDict):
    type: Literal["error"]
    message: str


ServerEvent = ConversationEvent | TokenEvent | SourcesEvent | DoneEvent | ErrorEvent
