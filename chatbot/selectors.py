"""Reads for the chat page: a conversation's messages as the browser renders them."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from chatbot.models import Conversation, Feedback, Message
from chatbot.rendering import answer_html


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
