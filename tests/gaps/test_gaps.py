"""The gaps page over a seeded history of real conversations: questions refused, of low confidence or
rated 👎 group into their topics (real embedder, real clustering); only knowledge admins and auditors
reach it; marking a topic handled is audited, and a handled topic that comes back is flagged."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.models import User
from chatbot.models import Conversation, Feedback, Message
from gaps.models import HandledGap
from gaps.selectors import gap_report
from governance.models import AuditEvent
from ingestion.embed import get_embedder
from ingestion.models import Document

# The English all-MiniLM-L6-v2 (EMBEDDING_MODEL=all-MiniLM-L6-v2) reads English only: its history is in English.
PARKING = [
    "Are there parking spaces for employees at the office?",
    "Where can I park my car at headquarters?",
    "Is the company car park free?",
    "How do I book a parking spot?",
]
LAPTOP = [
    "How do I request a new laptop?",
    "My laptop is broken, who do I call?",
    "How often are laptops replaced?",
    "Can I choose my laptop model?",
    "Can I swap my computer for a lighter one?",
]
PENSION = [
    "Does the company have a pension plan?",
    "How much does the company contribute to the pension plan?",
    "How do I join the pension scheme?",
    "Can I withdraw my retirement savings if I leave?",
]
# The multilingual embedder's history is in Spanish.
TOPICS_ES = {
    "parking": [
        "¿Hay plazas de aparcamiento para empleados en la oficina?",
        "¿Dónde puedo aparcar el coche en la sede?",
        "¿El parking de la empresa es gratuito?",
        "¿Cómo reservo una plaza de parking?",
    ],
    "laptop": [
        "¿Cómo pido un portátil nuevo?",
        "Mi ordenador portátil está roto, ¿a quién llamo?",
        "¿Cada cuánto se renueva el portátil?",
        "¿Puedo elegir el modelo de portátil?",
        "¿Me pueden cambiar el portátil por uno más ligero?",
    ],
    "pension": [
        "¿La empresa tiene plan de pensiones?",
        "¿Cuánto aporta la empresa al plan de pensiones?",
        "¿Cómo me doy de alta en el plan de pensiones?",
        "¿Puedo rescatar el plan de pensiones si me voy?",
    ],
}
TOPICS = {"parking": PARKING, "laptop": LAPTOP, "pension": PENSION}


def ask(
    user: User,
    question: str,
    *,
    days_ago: float,
    refused: bool = False,
    confidence: str = "high",
    thumbs_down: bool = False,
    document: Document | None = None,
) -> Message:
    """One conversation turn as the chat stores it, dated ``days_ago``."""
    when = timezone.now() - timedelta(days=days_ago)
    conversation = Conversation.objects.create(user=user, title=question[:40])
    asked = Message.objects.create(conversation=conversation, role=Message.Role.USER, content=question)
    retrieval = [{"chunk_id": "c", "document_id": document.pk, "score": 0.4}] if document else []
    answer = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content="…",
        refused=refused,
        confidence=confidence,
        retrieval=retrieval,
    )
    Message.objects.filter(pk=asked.pk).update(created_at=when - timedelta(seconds=2))
    Message.objects.filter(pk=answer.pk).update(created_at=when)
    if thumbs_down:
        Feedback.objects.create(message=answer, user=user, rating=Feedback.Rating.DOWN)
    return answer


def seed(
    user: User, document: Document | None = None, topics: dict[str, list[str]] = TOPICS, *, spanish: bool = False
) -> None:
    """Each topic's questions fall short in one of the three ways; answered questions and old ones do not count."""
    for topic, questions in topics.items():
        for n, question in enumerate(questions):
            kind = n % 3
            ask(
                user,
                question,
                days_ago=1 + n,
                refused=kind == 0,
                confidence="low" if kind == 1 else "high",
                thumbs_down=kind == 2,
                document=document if topic == "parking" else None,
            )
    if spanish:
        ask(user, "¿Cuántos días de vacaciones tengo al año?", days_ago=2)  # answered well
        ask(user, "¿Hay plazas de aparcamiento para motos?", days_ago=45, refused=True)  # before the period
        ask(user, "¿Cuántos días de vacaciones me quedan?", days_ago=3, refused=True)  # a topic of its own
        return
    ask(user, "How many vacation days do I get a year?", days_ago=2)  # answered well
    ask(user, "How many vacation days do I have left?", days_ago=2, confidence="medium")  # answered
    ask(user, "Can I park my motorbike in the garage?", days_ago=45, refused=True)  # before the period


def topic_of(question: str, topics: dict[str, list[str]] = TOPICS) -> str:
    return next(topic for topic, questions in topics.items() if question in questions)


@pytest.fixture
def history(alice: User, dana: User) -> Document:
    document = Document.objects.create(title="Guía de la sede", file="x.md", owner=dana)
    seed(alice, document)
    return document


def test_a_seeded_history_groups_into_its_topics(history: Document) -> None:
    report = gap_report(days=30)

    grouped = sorted(sorted(q.question for q in group.questions) for group in report.groups)
    assert grouped == sorted(sorted(questions) for questions in TOPICS.values())
    by_topic = {topic_of(group.label): group for group in report.groups}
    assert by_topic["laptop"].count == 5
    assert "laptop" in by_topic["laptop"].terms
    assert "pension" in by_topic["pension"].terms
    assert "parking" in by_topic["parking"].terms
    assert by_topic["parking"].closest_documents == [(history.pk, "Guía de la sede", 4)]
    assert by_topic["pension"].reason_counts() == {"refused": 2, "low confidence": 1, "thumbs down": 1}
    assert report.total == 13
    assert gap_report(days=90).total == 14  # the old question joins its topic over a longer period


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self.inner = get_embedder()
        self.name, self.dimension = self.inner.name, self.inner.dimension
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return self.inner.embed(texts)


def test_a_second_view_embeds_no_question_it_has_seen(history: Document, alice: User) -> None:
    cache.clear()
    embedder = CountingEmbedder()
    first = gap_report(days=30, embedder=embedder)  # type: ignore[arg-type]
    assert len(embedder.embedded) == 13

    embedder.embedded.clear()
    second = gap_report(days=30, embedder=embedder)  # type: ignore[arg-type]

    assert embedder.embedded == []  # clustering only
    assert [sorted(q.message_id for q in g.questions) for g in second.groups] == [
        sorted(q.message_id for q in g.questions) for g in first.groups
    ]
    ask(alice, "Is there a parking space for bicycles?", days_ago=1, refused=True)
    third = gap_report(days=30, embedder=embedder)  # type: ignore[arg-type]
    assert embedder.embedded == ["Is there a parking space for bicycles?"]
    assert third.total == 14


def test_with_the_multilingual_embedder_spanish_questions_group_into_their_topics(alice: User) -> None:
    from gaps.clustering import distance_threshold
    from ingestion.embed import USE_MODEL_NAME, embedder_load

    seed(alice, topics=TOPICS_ES, spanish=True)

    report = gap_report(days=90, embedder=embedder_load(USE_MODEL_NAME), threshold=distance_threshold(USE_MODEL_NAME))

    grouped = sorted(sorted(q.question for q in group.questions) for group in report.groups)
    expected = {topic: list(questions) for topic, questions in TOPICS_ES.items()}
    expected["parking"].append("¿Hay plazas de aparcamiento para motos?")
    expected["vacation"] = ["¿Cuántos días de vacaciones me quedan?"]
    assert grouped == sorted(sorted(questions) for questions in expected.values())
    by_topic = {topic_of(group.label, expected): group for group in report.groups}
    assert "portátil" in by_topic["laptop"].terms and "pensiones" in by_topic["pension"].terms


def test_example_questions_are_pseudonymised_on_the_page_and_in_the_export(alice: User, dana: User) -> None:
    ask(alice, "¿Cuántos días de vacaciones le quedan a Pedro Martínez Soto?", days_ago=1, refused=True)
    ask(alice, "¿Cuántos días de vacaciones le quedan a Pedro Martínez Soto este año?", days_ago=1, refused=True)
    client = Client()
    client.force_login(dana)

    page = client.get("/gaps/").content.decode()
    export = client.get("/gaps/?format=csv")

    assert "vacaciones" in page
    assert "Pedro" not in page and "Martínez" not in page
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert len(rows) == 2
    assert all("Pedro" not in row["question"] and "vacaciones" in row["question"] for row in rows)
    assert {row["reasons"] for row in rows} == {"refused"}


@pytest.mark.parametrize("persona", ["dana", "auditor"])
def test_knowledge_admins_and_auditors_read_the_page(
    persona: str, request: pytest.FixtureRequest, history: Document
) -> None:
    client = Client()
    client.force_login(request.getfixturevalue(persona))

    response = client.get("/gaps/?days=30")

    assert response.status_code == 200
    assert response.content.decode().count('class="gap') == 3


def test_employees_and_visitors_do_not_reach_it(charlie: User, alice: User, history: Document) -> None:
    anonymous = Client()
    assert anonymous.get("/gaps/").status_code == 302
    for user in (charlie, alice):
        client = Client()
        client.force_login(user)
        assert client.get("/gaps/").status_code == 403
        assert client.get("/gaps/?format=csv").status_code == 403
        assert client.post("/gaps/handled/", {"message_ids": "1", "note": "x"}).status_code == 403
    assert HandledGap.objects.count() == 0


def test_an_auditor_reads_but_does_not_mark(auditor: User, history: Document) -> None:
    client = Client()
    client.force_login(auditor)
    group = gap_report(days=30).groups[0]

    assert 'action="/gaps/handled/"' not in client.get("/gaps/").content.decode()
    response = client.post("/gaps/handled/", {"message_ids": group.key, "note": "x"})

    assert response.status_code == 403
    assert HandledGap.objects.count() == 0


def test_marking_a_topic_handled_is_audited_and_a_returning_topic_is_flagged(
    alice: User, dana: User, history: Document
) -> None:
    client = Client()
    client.force_login(dana)
    laptop = next(g for g in gap_report(days=30).groups if topic_of(g.label) == "laptop")

    response = client.post("/gaps/handled/", {"message_ids": laptop.key, "note": "Nueva guía de equipos", "days": "30"})

    assert response.status_code == 302
    mark = HandledGap.objects.get()
    assert mark.note == "Nueva guía de equipos" and mark.handled_by == dana
    assert sorted(mark.message_ids) == sorted(q.message_id for q in laptop.questions)
    event = AuditEvent.objects.get(event_type="gaps.handled")
    assert event.actor_id == dana.pk and event.object_id == str(mark.pk)
    assert event.data["questions"] == 5 and "note_hmac" in event.data
    report = gap_report(days=30)
    assert [topic_of(g.label) for g in report.handled_groups] == ["laptop"]
    assert len(report.open_groups) == 2
    assert "Nueva guía de equipos" in client.get("/gaps/").content.decode()

    # One more question after the mark is not yet "coming back"; two are.
    ask(alice, "How can I get a spare laptop?", days_ago=0, refused=True)
    assert not next(g for g in gap_report(days=30).groups if g.mark is not None).returning
    ask(alice, "I need a new laptop, mine does not turn on", days_ago=0, refused=True)
    later = gap_report(days=30)
    returning = [g for g in later.groups if g.returning]
    assert len(returning) == 1 and returning[0].after_mark == 2 and returning[0].mark == mark
    assert returning[0] in later.open_groups
    assert 'class="gap returning"' in client.get("/gaps/").content.decode()


def test_a_forged_mark_of_answered_questions_is_refused(alice: User, dana: User) -> None:
    answered = ask(alice, "How many vacation days do I get a year?", days_ago=1)
    client = Client()
    client.force_login(dana)

    assert client.post("/gaps/handled/", {"message_ids": str(answered.pk), "note": "x"}).status_code == 400
    assert HandledGap.objects.count() == 0


def test_the_page_charts_the_trend(dana: User, history: Document) -> None:
    client = Client()
    client.force_login(dana)

    page = client.get("/gaps/?days=7").content.decode()

    assert page.count("<svg") == 4  # the period's and one per topic
    assert page.count('<circle class="point"') == 4 * 7  # a point a day
