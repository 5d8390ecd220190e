"""Retention of chat logs: conversations untouched for ``CHAT_RETENTION_DAYS`` are deleted with their
messages and feedback. The audit trail is never pruned: its chat-turn events keep hashes and pseudonymised
text only (``governance.privacy``), so they may outlive the conversations. The policy lives beside the data
it deletes because governance may not import chatbot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chatbot.models import Conversation, Message
from governance.audit import audit_record


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime | None  # None: retention is off (CHAT_RETENTION_DAYS=0)
    conversations: int
    messages: int


@transaction.atomic
def retention_apply(*, days: int | None = None, now: datetime | None = None) -> RetentionReport:
    """Delete conversations last updated before ``now - days`` (default ``CHAT_RETENTION_DAYS``), and
    audit how many went, in the same transaction."""
    days = settings.CHAT_RETENTION_DAYS if days is None else days
    if days < 0:
        raise ValueError("days must be 0 (keep forever) or more")
    if days == 0:
        return RetentionReport(cutoff=None, conversations=0, messages=0)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    expired = Conversation.objects.filter(updated_at__lt=cutoff)
    conversations = expired.count()
    messages = Message.objects.filter(conversation__in=expired).count()
    expired.delete()
    audit_record(
        event_type="retention.applied",
        data={"days": days, "cutoff": cutoff.isoformat(), "conversations": conversations, "messages": messages},
    )
    return RetentionReport(cutoff=cutoff, conversations=conversations, messages=messages)
