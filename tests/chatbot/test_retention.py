"""Retention deletes conversations that have not been touched for CHAT_RETENTION_DAYS, keeps the rest and
the whole audit trail, and says so in the trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from chatbot.models import Conversation, Message
from chatbot.retention import retention_apply
from chatbot.services import question_record
from config.celery import app
from governance.audit import audit_verify
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db


def _conversation(user: User, question: str, *, age_days: int) -> Conversation:
    conversation, _ = question_record(user=user, conversation_id=None, question=question)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now() - timedelta(days=age_days))
    return conversation


def test_old_conversations_go_recent_ones_and_the_audit_trail_stay(alice, bob, settings, capsys):
    settings.CHAT_RETENTION_DAYS = 30
    old = _conversation(alice, "una pregunta antigua", age_days=31)
    recent = _conversation(bob, "una pregunta reciente", age_days=29)
    events_before = AuditEvent.objects.count()
    call_command("apply_retention")
    assert not Conversation.objects.filter(pk=old.pk).exists()
    assert not Message.objects.filter(conversation_id=old.pk).exists()
    assert Conversation.objects.filter(pk=recent.pk).exists()
    assert AuditEvent.objects.count() == events_before + 1
    event = AuditEvent.objects.get(event_type="retention.applied")
    assert event.data["conversations"] == 1 and event.data["messages"] == 1 and event.data["days"] == 30
    assert list(audit_verify()) == []
    assert "deleted 1 conversations (1 messages)" in capsys.readouterr().out


def test_zero_days_keeps_everything(alice, settings, capsys):
    settings.CHAT_RETENTION_DAYS = 0
    _conversation(alice, "muy antigua", age_days=5000)
    call_command("apply_retention")
    assert Conversation.objects.count() == 1
    assert "retention is off" in capsys.readouterr().out
    assert not AuditEvent.objects.filter(event_type="retention.applied").exists()


def test_days_can_be_given_per_run_but_not_negative(alice):
    _conversation(alice, "de hace una semana", age_days=7)
    assert retention_apply(days=10).conversations == 0
    assert retention_apply(days=5).conversations == 1
    with pytest.raises(CommandError):
        call_command("apply_retention", "--days", "-3")


def test_retention_is_scheduled_nightly_with_celery_beat(settings):
    from chatbot import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["apply-retention"]
    assert entry["task"] == tasks.apply_retention.name
    assert entry["task"] in app.tasks
    assert settings.CHAT_RETENTION_DAYS == 365
