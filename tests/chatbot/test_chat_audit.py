"""Every chat turn and every piece of feedback writes its audit event with it; with
``PSEUDONYMISE_CHAT_LOGS`` on, stored questions, answers and comments hold pseudonyms instead of personal data."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import Client

from chatbot.llm.extractive import ExtractiveClient
from chatbot.models import Feedback, Message
from chatbot.rag.answer import answer_stream
from chatbot.services import AnswerProvenance, answer_record, question_record
from governance.audit import audit_verify
from governance.models import AuditEvent
from governance.privacy import text_digest
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "¿Cuántos días de vacaciones tengo al año? Mi correo es ana.lopez@example.com"


async def ask(user: Any, question: str = QUESTION) -> Any:
    events = [
        e async for e in answer_stream(user=user, conversation_id=None, question=question, llm=ExtractiveClient())
    ]
    return events[-1]


async def test_a_chat_turn_is_audited_with_its_provenance(policies, alice):
    done = await ask(alice)
    message = await Message.objects.aget(pk=done["message_id"])
    event = await AuditEvent.objects.aget(event_type="chat.turn")
    assert event.actor_username == "alice"
    assert event.object_type == "conversation" and event.object_id == str(message.conversation_id)
    data = event.data
    assert data["message_id"] == message.pk
    assert data["question_hmac"] == text_digest(QUESTION)  # keyed: tests/governance/test_audit_attack.py
    assert data["answer_hmac"] == text_digest(message.content)
    # The trail keeps pseudonymised text: the e-mail address is gone, the rest of the question is there.
    assert "ana.lopez@example.com" not in json.dumps(data)
    assert data["question"].startswith("¿Cuántos días de vacaciones") and "<EMAIL_" in data["question"]
    assert data["rewritten_query"] and data["answer"]
    assert [hit["chunk_id"] for hit in data["retrieval"]] == [hit["chunk_id"] for hit in message.retrieval]
    assert all(isinstance(hit["score"], float) for hit in data["retrieval"])
    assert data["cited_documents"] == [policies["vacation"].pk]
    assert data["model"] == "extractive" and data["adapter"] == ""
    assert data["confidence"] == message.confidence and data["fallback"] is False and data["refused"] is False
    assert data["latency_ms"]["total"] == message.latency_total_ms
    assert data["prompt_version"] == message.prompt_version
    assert await sync_to_async(_chain_breaks)() == []


def _chain_breaks() -> list[Any]:
    return list(audit_verify())


async def test_a_refusal_is_audited_as_refused(search_index, charlie):
    await ask(charlie, "¿Quién ganó el mundial de 1986?")
    event = await AuditEvent.objects.aget(event_type="chat.turn")
    assert event.data["refused"] is True and event.data["cited_documents"] == []


def _provenance() -> AnswerProvenance:
    return AnswerProvenance(
        rewritten_query="vacaciones",
        retrieval=[],
        evidence=0.0,
        prompt_version="v",
        model="m",
        adapter="",
        fallback=False,
        refused=True,
        stopped=False,
        confidence="low",
        unsupported=[],
        latency_retrieval_ms=1,
        latency_first_token_ms=1,
        latency_total_ms=1,
    )


def test_the_answer_and_its_audit_event_commit_or_roll_back_together(alice):
    conversation, _ = question_record(user=alice, conversation_id=None, question="hola")
    with pytest.raises(RuntimeError), transaction.atomic():
        answer_record(
            user=alice, conversation=conversation, question="hola", content="x", sources=[], provenance=_provenance()
        )
        raise RuntimeError("the action fails after the audit row was written")
    assert not Message.objects.filter(role="assistant").exists()
    assert not AuditEvent.objects.filter(event_type="chat.turn").exists()


def test_feedback_is_audited(alice):
    conversation, _ = question_record(user=alice, conversation_id=None, question="hola")
    message = answer_record(
        user=alice, conversation=conversation, question="hola", content="x", sources=[], provenance=_provenance()
    )
    client = Client()
    client.force_login(alice)
    url = f"/answers/{message.pk}/feedback/"
    body = json.dumps({"rating": -1, "comment": "Llamadme al 612 345 678"})
    assert client.post(url, body, content_type="application/json").status_code == 200
    event = AuditEvent.objects.get(event_type="chat.feedback")
    assert event.actor_username == "alice" and event.object_id == str(message.pk)
    assert event.data["rating"] == -1 and event.data["conversation_id"] == conversation.pk
    assert "612 345 678" not in event.data["comment"] and "<PHONE_" in event.data["comment"]
    # Without PSEUDONYMISE_CHAT_LOGS the stored comment is the one typed.
    assert Feedback.objects.get().comment == "Llamadme al 612 345 678"


def test_deleting_a_conversation_is_audited(alice):
    conversation, _ = question_record(user=alice, conversation_id=None, question="hola")
    client = Client()
    client.force_login(alice)
    client.post(f"/c/{conversation.pk}/delete/")
    assert AuditEvent.objects.filter(event_type="chat.conversation_deleted", object_id=str(conversation.pk)).exists()


async def test_pseudonymised_chat_logs_store_no_personal_data(policies, alice, settings):
    settings.PSEUDONYMISE_CHAT_LOGS = True
    await sync_to_async(_rename)(alice, "Alice", "Martín")
    question = "Soy Alice Martín, DNI 12345678Z: ¿cuántos días de vacaciones tengo al año?"
    done = await ask(alice, question)
    stored = [m async for m in Message.objects.filter(conversation__messages__pk=done["message_id"]).order_by("id")]
    stored_question, stored_answer = stored[0], stored[-1]
    assert "12345678Z" not in stored_question.content and "Alice Martín" not in stored_question.content
    assert "<DNI_" in stored_question.content and "<PERSON_" in stored_question.content
    assert "vacaciones" in stored_question.content
    conversation = await sync_to_async(lambda: stored_question.conversation)()
    assert "12345678Z" not in conversation.title
    # The answer streamed to the person is the real one; what is stored is its pseudonymised text.
    assert done["text"] and stored_answer.content
    assert "23" in stored_answer.content


async def test_pseudonymised_answers_replace_names_the_answer_repeats(search_index, alice, settings):
    settings.PSEUDONYMISE_CHAT_LOGS = True
    conversation, _ = await sync_to_async(question_record)(user=alice, conversation_id=None, question="hola")
    await sync_to_async(_rename)(alice, "Alice", "Martín")
    message = await sync_to_async(answer_record)(
        user=alice,
        conversation=conversation,
        question="hola",
        content="Alice Martín puede escribir a rrhh@lumen.example.",
        sources=[],
        provenance=_provenance(),
    )
    assert "Alice" not in message.content and "rrhh@lumen.example" not in message.content
    assert message.content.startswith("<PERSON_")


def _rename(user: Any, first: str, last: str) -> None:
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])


@pytest.mark.parametrize(
    ("environment", "error"),
    [
        ({"PSEUDONYMISE_CHAT_LOGS": "on"}, "PSEUDONYMISE_CHAT_LOGS needs PSEUDONYM_KEY"),
        ({"CHAT_RETENTION_DAYS": "-1"}, "CHAT_RETENTION_DAYS must be 0"),
    ],
)
def test_settings_refuse_inconsistent_privacy_choices(environment, error, tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "off",
        "SECRET_KEY": "x" * 50,
        "AUDIT_KEY": secrets.token_hex(32),
        "DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **environment,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and error in result.stderr
