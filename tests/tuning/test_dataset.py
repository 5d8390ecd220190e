"""Dataset snapshots: pseudonymised before storage, reported, hashed stably, audited, gated."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError

from governance.models import AuditEvent
from tuning.dataset import content_hash, snapshot_create
from tuning.models import ToneExample

TEMPLATE = "{% for m in messages %}{{ m.content }}{% endfor %}"
EXAMPLES = [
    {
        "question": "Soy Ana López, mi DNI es 12345678Z y mi correo ana.lopez@lumen.example. ¿Cómo cambio mi IBAN?",
        "answer": "Hola, Ana:\n\nCámbialo en el Portal de Personas.\n\nUn saludo,\nel equipo de Personas",
    },
    {
        "question": "¿Puedo llamar al 612 345 678 para dudas de nómina?",
        "answer": "Hola:\n\nSí, llama de 09:00 a 17:00.\n\nUn saludo,\nel equipo de Personas",
    },
    {"question": "¿Cuántos días de vacaciones tengo?", "answer": "Hola:\n\nTienes 23 días laborables."},
]


@pytest.fixture
def ana(db):
    from tests.conftest import make_user

    user = make_user("ana")
    user.first_name, user.last_name = "Ana", "López"
    user.save()
    return user


def test_snapshot_stores_no_personal_data_and_reports_what_it_replaced(dana, ana):
    snapshot = snapshot_create(approved_by=dana, examples=EXAMPLES, chat_template=TEMPLATE)
    stored = json.dumps(snapshot.examples, ensure_ascii=False)
    for raw in ("Ana", "López", "12345678Z", "ana.lopez@lumen.example", "612 345 678"):
        assert raw not in stored
    assert "<DNI_" in stored and "<EMAIL_" in stored and "<PERSON_" in stored and "<PHONE_" in stored
    assert snapshot.pii_report == {
        "examples": 3,
        "examples_with_pii": 2,
        "replaced": {"DNI": 1, "EMAIL": 1, "PERSON": 2, "PHONE": 1},
    }
    assert snapshot.examples[2] == EXAMPLES[2]  # nothing personal: unchanged
    assert snapshot.approved_by == dana
    assert snapshot.chat_template == TEMPLATE


def test_the_same_person_gets_the_same_pseudonym_throughout_the_dataset(dana, ana):
    examples = [
        {"question": "Soy Ana, ¿qué hago?", "answer": "Hola, Ana:\n\nPídelo en el portal."},
        {"question": "¿Ana está de vacaciones?", "answer": "Hola:\n\nNo lo sé."},
    ]
    snapshot = snapshot_create(approved_by=dana, examples=examples, chat_template=TEMPLATE)
    pseudonym = snapshot.examples[0]["answer"].split("Hola, ")[1].split(":")[0]
    assert pseudonym.startswith("<PERSON_")
    assert pseudonym in snapshot.examples[0]["question"]
    assert pseudonym in snapshot.examples[1]["question"]


def test_content_hash_is_stable_and_follows_content(dana, ana):
    first = snapshot_create(approved_by=dana, examples=EXAMPLES, chat_template=TEMPLATE)
    second = snapshot_create(approved_by=dana, examples=EXAMPLES, chat_template=TEMPLATE)
    assert first.content_hash == second.content_hash
    assert first.content_hash == content_hash(chat_template=TEMPLATE, examples=first.examples)
    other = snapshot_create(approved_by=dana, examples=EXAMPLES[:2], chat_template=TEMPLATE)
    assert other.content_hash != first.content_hash
    retemplated = snapshot_create(approved_by=dana, examples=EXAMPLES, chat_template=TEMPLATE + " ")
    assert retemplated.content_hash != first.content_hash


def test_snapshot_is_audited(dana):
    snapshot = snapshot_create(approved_by=dana, examples=EXAMPLES, chat_template=TEMPLATE)
    event = AuditEvent.objects.get(event_type="tuning.snapshot")
    assert event.actor_username == "dana"
    assert event.object_id == str(snapshot.pk)
    assert event.data["content_hash"] == snapshot.content_hash
    assert event.data["pii_report"]["examples"] == 3


def test_only_knowledge_admins_approve_snapshots(charlie):
    with pytest.raises(PermissionDenied):
        snapshot_create(approved_by=charlie, examples=EXAMPLES, chat_template=TEMPLATE)


def test_unapproved_examples_and_empty_sets_are_refused(dana):
    draft = ToneExample.objects.create(question="¿Q?", answer="Hola: A.", author=dana, approved=False)
    with pytest.raises(ValidationError):
        snapshot_create(approved_by=dana, examples=[draft], chat_template=TEMPLATE)
    with pytest.raises(ValidationError):
        snapshot_create(approved_by=dana, examples=[], chat_template=TEMPLATE)


def test_approved_examples_from_the_admin_are_accepted(dana):
    example = ToneExample.objects.create(question="¿Q?", answer="Hola: A.", author=dana, approved=True)
    snapshot = snapshot_create(approved_by=dana, examples=[example], chat_template=TEMPLATE)
    assert snapshot.examples == [{"question": "¿Q?", "answer": "Hola: A."}]


def test_no_key_no_snapshot(dana, settings):
    settings.PSEUDONYM_KEY = None
    with pytest.raises(ImproperlyConfigured):
        snapshot_create(approved_by=dana, examples=EXAMPLES, chat_template=TEMPLATE)
