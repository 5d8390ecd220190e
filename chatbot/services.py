"""Conversations and messages (synchronous ORM; the async answer flow calls these through a thread)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User
from chatbot.llm.base import ChatMessage
from chatbot.models import Conversation, Message


class ConversationNotFound(Exception):
    pass


def access_conversation(user: User, conversation_id: int) -> Conversation:
    """The user's own conversation; missing and someone else's look the same."""
    conversation = Conversation.objects.filter(pk=conversation_id, user=user).first()
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


@transaction.atomic
def question_record(
    *, user: User, conversation_id: int | None, question: str
) -> tuple[Conversation, list[ChatMessage]]:
    """Store the question (opening a conversation if needed); return it with the history before it."""
    if conversation_id is None:
        conversation = Conversation.objects.create(user=user, title=question[:200])
        history: list[ChatMessage] = []
    else:
        conversation = access_conversation(user, conversation_id)
        history = [
            ChatMessage(role=message.role, content=message.content)
            for message in conversation.messages.order_by("-created_at", "-id")[:4]
        ][::-1]
    Message.objects.create(conversation=conversation, role=Message.Role.USER, content=question)
    conversation.save(update_fields=["updated_at"])
    return conversation, history


def answer_record(
    *,
    conversation: Conversation,
    content: str,
    model: str,
    fallback: bool,
    sources: list[Any],
    retrieval: list[dict[str, Any]],
) -> Message:
    return Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=content,
        model=model,
        fallback=fallback,
        sources=sources,
        retrieval=retrieval,
    )
