"""The chat page and its HTTP actions: conversation list, rename, delete, feedback; someone else's
conversation or answer looks missing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import User
from chatbot.models import Conversation, Feedback, Message

pytestmark = pytest.mark.django_db


def conversation_of(user: User, title: str = "Vacaciones") -> tuple[Conversation, Message]:
    conversation = Conversation.objects.create(user=user, title=title)
    Message.objects.create(conversation=conversation, role="user", content="¿Cuántos días de vacaciones tengo?")
    answer = Message.objects.create(
        conversation=conversation,
        role="assistant",
        content="Tienes **23 días** [1].",
        confidence="high",
        sources=[{"n": 1, "document_id": 1, "title": "Vacaciones", "location": "3", "quote": "23", "url": "/d/1/"}],
    )
    return conversation, answer


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_lists_only_my_conversations_and_shows_the_chosen_one(alice, charlie):
    mine, _ = conversation_of(alice, "Mis vacaciones")
    conversation_of(charlie, "De Charlie")
    response = client_for(alice).get(f"/c/{mine.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mis vacaciones" in page and "De Charlie" not in page
    history = response.context["history"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert '<strong>23 días</strong> <a class="cite" href="/d/1/"' in history[1]["html"]
    assert history[1]["confidence"] == "high" and history[1]["feedback"] is None


def test_someone_elses_conversation_is_not_found(alice, charlie):
    theirs, answer = conversation_of(charlie)
    client = client_for(alice)
    assert client.get(f"/c/{theirs.pk}/").status_code == 404
    assert client.post(f"/c/{theirs.pk}/rename/", {"title": "x"}).status_code == 404
    assert client.post(f"/c/{theirs.pk}/delete/").status_code == 404
    feedback = client.post(f"/answers/{answer.pk}/feedback/", {"rating": 1}, content_type="application/json")
    assert feedback.status_code == 404
    assert Conversation.objects.filter(pk=theirs.pk, title="Vacaciones").exists()
    assert not Feedback.objects.exists()


def test_rename_and_delete(alice):
    conversation, _ = conversation_of(alice)
    client = client_for(alice)
    response = client.post(
        f"/c/{conversation.pk}/rename/", {"title": "  Días   libres "}, headers={"accept": "application/json"}
    )
    assert response.json() == {"id": conversation.pk, "title": "Días libres"}
    assert client.post(f"/c/{conversation.pk}/rename/", {"title": "  "}).status_code == 400
    assert client.get(f"/c/{conversation.pk}/rename/").status_code == 405
    response = client.post(f"/c/{conversation.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_feedback_is_recorded_once_per_person_and_answer_with_an_optional_comment(alice):
    _, answer = conversation_of(alice)
    client = client_for(alice)
    url = f"/answers/{answer.pk}/feedback/"
    assert client.post(url, {"rating": 1}, content_type="application/json").json() == {"rating": 1, "comment": ""}
    response = client.post(
        url, {"rating": -1, "comment": "Falta el caso de media jornada"}, content_type="application/json"
    )
    assert response.status_code == 200
    [feedback] = Feedback.objects.all()
    assert (feedback.rating, feedback.comment, feedback.user, feedback.message) == (
        -1,
        "Falta el caso de media jornada",
        alice,
        answer,
    )
    page = client.get(f"/c/{answer.conversation_id}/")
    assert page.context["history"][1]["feedback"] == {"rating": -1, "comment": "Falta el caso de media jornada"}


@pytest.mark.parametrize("body", [{"rating": 5}, {"rating": "1"}, {"rating": 1, "comment": "x" * 2001}, []])
def test_invalid_feedback_is_refused(alice, body):
    _, answer = conversation_of(alice)
    response = client_for(alice).post(
        f"/answers/{answer.pk}/feedback/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert not Feedback.objects.exists()


def test_feedback_on_a_question_rather_than_an_answer_is_not_found(alice):
    conversation, _ = conversation_of(alice)
    question = conversation.messages.get(role="user")
    response = client_for(alice).post(
        f"/answers/{question.pk}/feedback/", {"rating": 1}, content_type="application/json"
    )
    assert response.status_code == 404


def test_actions_need_a_signed_in_user_and_csrf(alice):
    conversation, _ = conversation_of(alice)
    assert Client().post(f"/c/{conversation.pk}/delete/").status_code == 302  # to the login page
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(f"/c/{conversation.pk}/delete/").status_code == 403
    assert Conversation.objects.filter(pk=conversation.pk).exists()


@pytest.mark.parametrize(("language", "text"), [("es", "Nueva conversación"), ("en", "New conversation")])
def test_the_page_speaks_spanish_and_english(alice, language, text):
    client = client_for(alice)
    client.cookies["django_language"] = language
    response = client.get("/")
    assert text in response.content.decode()
    assert response.context["strings"]["copy"] == ("Copiar" if language == "es" else "Copy")
