"""Conversations, messages and feedback (synchronous ORM; the async answer flow calls these through a thread)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction

from accounts.models import User
from chatbot.llm.base import ChatMessage
from chatbot.models import Conversation, Feedback, Message

HISTORY_MESSAGES = 4
TITLE_MAX_CHARS = 200
COMMENT_MAX_CHARS = 2000


class ConversationNotFound(Exception):
    pass


class MessageNotFound(Exception):
    pass


def access_conversation(user: User, conversation_id: int) -> Conversation:
    """The user's own conversation; missing and someone else's look the same."""
    conversation = Conversation.objects.filter(pk=conversation_id, user=user).first()
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


def access_answer(user: User, message_id: int) -> Message:
    """An answer in one of the user's own conversations; anything else looks missing."""
    message = (
        Message.objects.filter(pk=message_id)
        .filter(conversation__user=user)
        .filter(role=Message.Role.ASSISTANT)
        .first()
    )
    if message is None:
        raise MessageNotFound(message_id)
    return message


def conversation_list_for_user(user: User) -> list[Conversation]:
    return list(Conversation.objects.filter(user=user).order_by("-updated_at", "-id"))


@transaction.atomic
def question_record(
    *, user: User, conversation_id: int | None, question: str
) -> tuple[Conversation, list[ChatMessage]]:
    """Store the question (opening a conversation if needed); return it with the history before it."""
    if conversation_id is None:
        conversation = Conversation.objects.create(user=user, title=" ".join(question.split())[:TITLE_MAX_CHARS])
        history: list[ChatMessage] = []
    else:
        conversation = access_conversation(user, conversation_id)
        history = [
            ChatMessage(role=message.role, content=message.content)
            for message in conversation.messages.order_by("-created_at", "-id")[:HISTORY_MESSAGES]
        ][::-1]
    Message.objects.create(conversation=conversation, role=Message.Role.USER, content=question)
    conversation.save(update_fields=["updated_at"])
    return conversation, history


@dataclass(frozen=True)
class AnswerProvenance:
    """Everything recorded with an answer besides its text and sources (see ``Message``)."""

    rewritten_query: str
    retrieval: list[dict[str, Any]]
    evidence: float
    prompt_version: str
    model: str
    adapter: str
    fallback: bool
    refused: bool
    stopped: bool
    confidence: str
    unsupported: list[str]
    latency_retrieval_ms: int
    latency_first_token_ms: int | None
    latency_total_ms: int


def answer_record(
    *, conversation: Conversation, content: str, sources: list[Any], provenance: AnswerProvenance
) -> Message:
    return Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=content,
        sources=sources,
        **asdict(provenance),
    )


@transaction.atomic
def conversation_rename(*, user: User, conversation_id: int, title: str) -> Conversation:
    conversation = access_conversation(user, conversation_id)
    title = " ".join(title.split())[:TITLE_MAX_CHARS]
    if not title:
        raise ValueError("A conversation needs a title.")
    conversation.title = title
    conversation.save(update_fields=["title", "updated_at"])
    return conversation


@transaction.atomic
def conversation_delete(*, user: User, conversation_id: int) -> None:
    """Delete the conversation with its messages and their feedback."""
    access_conversation(user, conversation_id).delete()


@transaction.atomic
def feedback_record(*, user: User, message_id: int, rating: int, comment: str = "") -> Feedback:
    """Record (or replace) the user's 👍 (1) or 👎 (-1) on one of their answers, with an optional comment."""
    if rating not in Feedback.Rating.values:
        raise ValueError("The rating is 1 (helpful) or -1 (not helpful).")
    message = access_answer(user, message_id)
    feedback, _ = Feedback.objects.update_or_create(
        message=message,
        user=user,
        defaults={"rating": rating, "comment": comment.strip()[:COMMENT_MAX_CHARS]},
    )
    return feedback
