"""Conversations, messages and feedback (synchronous ORM; the async answer flow calls these through a thread)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction

from accounts.models import User
from chatbot.llm.base import ChatMessage
from chatbot.models import Conversation, Feedback, Message
from chatbot.rag.citations import clean_citations
from chatbot.selectors import access_answer, access_conversation
from governance.audit import audit_record
from governance.privacy import audit_texts, chat_log_texts

HISTORY_MESSAGES = 4
TITLE_MAX_CHARS = 200
COMMENT_MAX_CHARS = 2000


@transaction.atomic
def question_record(
    *, user: User, conversation_id: int | None, question: str
) -> tuple[Conversation, list[ChatMessage]]:
    """Store the question (opening a conversation if needed); return it with the history before it.

    With ``PSEUDONYMISE_CHAT_LOGS`` on, the stored question and title are pseudonymised (the question
    asked now is answered as typed)."""
    (stored,) = chat_log_texts(question)
    if conversation_id is None:
        conversation = Conversation.objects.create(user=user, title=" ".join(stored.split())[:TITLE_MAX_CHARS])
        history: list[ChatMessage] = []
    else:
        conversation = access_conversation(user, conversation_id)
        history = [
            ChatMessage(role=message.role, content=message.content)
            for message in conversation.messages.order_by("-created_at", "-id")[:HISTORY_MESSAGES]
        ][::-1]
    Message.objects.create(conversation=conversation, role=Message.Role.USER, content=stored)
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


@transaction.atomic
def answer_record(
    *,
    user: User,
    conversation: Conversation,
    question: str,
    content: str,
    sources: list[Any],
    provenance: AnswerProvenance,
) -> Message:
    """Store the answer with its provenance and audit the whole turn in the same transaction."""
    (stored,) = chat_log_texts(content)
    message = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content=stored,
        sources=sources,
        **asdict(provenance),
    )
    documents = {int(source["n"]): source["document_id"] for source in sources}
    _, cited, _ = clean_citations(content, set(documents))
    audit_record(
        event_type="chat.turn",
        actor=user,
        object_type="conversation",
        object_id=conversation.pk,
        data={
            "message_id": message.pk,
            **audit_texts(question=question, rewritten_query=provenance.rewritten_query, answer=content),
            "retrieval": [
                {"chunk_id": hit["chunk_id"], "document_id": hit["document_id"], "score": hit["score"]}
                for hit in provenance.retrieval
            ],
            "evidence": provenance.evidence,
            "cited_documents": list(dict.fromkeys(documents[n] for n in cited)),
            "model": provenance.model,
            "adapter": provenance.adapter,
            "prompt_version": provenance.prompt_version,
            "confidence": provenance.confidence,
            "fallback": provenance.fallback,
            "refused": provenance.refused,
            "stopped": provenance.stopped,
            "unsupported_sentences": len(provenance.unsupported),
            "latency_ms": {
                "retrieval": provenance.latency_retrieval_ms,
                "first_token": provenance.latency_first_token_ms,
                "total": provenance.latency_total_ms,
            },
        },
    )
    return message


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
    """Delete the conversation with its messages and their feedback (the audit trail keeps its turns)."""
    access_conversation(user, conversation_id).delete()
    audit_record(
        event_type="chat.conversation_deleted", actor=user, object_type="conversation", object_id=conversation_id
    )


@transaction.atomic
def feedback_record(*, user: User, message_id: int, rating: int, comment: str = "") -> Feedback:
    """Record (or replace) the user's 👍 (1) or 👎 (-1) on one of their answers, with an optional comment."""
    if rating not in Feedback.Rating.values:
        raise ValueError("The rating is 1 (helpful) or -1 (not helpful).")
    message = access_answer(user, message_id)
    comment = comment.strip()[:COMMENT_MAX_CHARS]
    (stored,) = chat_log_texts(comment)
    feedback, _ = Feedback.objects.update_or_create(
        message=message, user=user, defaults={"rating": rating, "comment": stored}
    )
    audit_record(
        event_type="chat.feedback",
        actor=user,
        object_type="message",
        object_id=message.pk,
        data={"conversation_id": message.conversation_id, "rating": rating, **audit_texts(comment=comment)},
    )
    return feedback
