"""Reads for the chat: the access getters (a person's own conversations and answers; anything else looks
missing) and a conversation's messages as the browser renders them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from chatbot.models import Conversation, Feedback, Message
from chatbot.rendering import answer_html


class ConversationNotFound(Exception):
    pass


class MessageNotFound(Exception):
    pass


def conversations_for_user(user: User) -> QuerySet[Conversation]:
    """The conversations a person reaches in the chat: their own (auditors read others' in the admin)."""
    return Conversation.objects.filter(user=user)


def access_conversation(user: User, conversation_id: int) -> Conversation:
    """The user's own conversation; missing and someone else's look the same."""
    conversation = conversations_for_user(user).filter(pk=conversation_id).first()
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


def access_answer(user: User, message_id: int) -> Message:
    """An answer in one of the user's own conversations; anything else looks missing."""
    message = (
        Message.objects.filter(pk=message_id)
        .filter(conversation__in=conversations_for_user(user))
        .filter(role=Message.Role.ASSISTANT)
        .first()
    )
    if message is None:
        raise MessageNotFound(message_id)
    return message


def conversation_list_for_user(user: User) -> list[Conversation]:
    return list(conversations_for_user(user).order_by("-updated_at", "-id"))


def message_payload(message: Message, feedback: Feedback | None = None) -> dict[str, Any]:
    """One message as the chat script draws it (the same fields a live answer ends with)."""
    if message.role == Message.Role.USER:
        return {"role": "user", "text": message.content}
    return {
        "role": "assistant",
        "message_id": message.pk,
        "text": message.content,
        "html": answer_html(message.content, message.sources),
        "sources": message.sources,
        "model": message.model,
        "fallback": message.fallback,
        "refused": message.refused,
        "stopped": message.stopped,
        "confidence": message.confidence or "low",
        "unsupported": len(message.unsupported),
        "feedback": {"rating": feedback.rating, "comment": feedback.comment} if feedback else None,
    }


def conversation_messages_for_user(user: User, conversation: Conversation) -> list[dict[str, Any]]:
    """The messages of one of the user's conversations (``access_conversation`` checked it), oldest first,
    with the user's own feedback on each answer."""
    messages = list(conversation.messages.order_by("created_at", "id"))
    feedback = {f.message_id: f for f in Feedback.objects.filter(user=user, message__conversation=conversation)}
    return [message_payload(message, feedback.get(message.pk)) for message in messages]
