"""Tone tuning through the admin, over HTTP: the review queue of 👍 answers, training from a snapshot on the
'training' queue, live progress, promotion."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from chatbot.models import Conversation, Feedback, Message
from governance.models import AuditEvent
from tuning.dataset import snapshot_create
from tuning.models import ToneExample, TuningRun
from tuning.tasks import tune_tone

ANSWER = "Hola:\n\nTienes 23 días laborables al año [1]. Pídelas con 15 días de antelación [1, 2].\n\nUn saludo"


@pytest.fixture
def liked(alice, bob) -> dict[str, Feedback]:
    conversation = Conversation.objects.create(user=alice, title="Vacaciones")
    Message.objects.create(conversation=conversation, role=Message.Role.USER, content="¿Cuántos días de vacaciones?")
    answer = Message.objects.create(conversation=conversation, role=Message.Role.ASSISTANT, content=ANSWER)
    refusal = Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, content="No he encontrado esto.", refused=True
    )
    return {
        "up": Feedback.objects.create(message=answer, user=alice, rating=Feedback.Rating.UP),
        "down": Feedback.objects.create(message=answer, user=bob, rating=Feedback.Rating.DOWN),
        "refusal": Feedback.objects.create(message=refusal, user=alice, rating=Feedback.Rating.UP),
    }


def test_the_review_queue_lists_only_liked_answers(client, dana, liked):
    client.force_login(dana)
    response = client.get(reverse("admin:tuning_answerreview_changelist"))
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown == [liked["up"]]


def test_approving_a_liked_answer_makes_an_approved_tone_example_without_citations(client, dana, liked):
    client.force_login(dana)
    response = client.post(
        reverse("admin:tuning_answerreview_changelist"),
        {"action": "approve_as_examples", "_selected_action": [liked["up"].pk]},
        follow=True,
    )
    assert response.status_code == 200
    example = ToneExample.objects.get()
    assert example.question == "¿Cuántos días de vacaciones?" and example.approved and example.author == dana
    assert (
        example.answer == "Hola:\n\nTienes 23 días laborables al año. Pídelas con 15 días de antelación.\n\nUn saludo"
    )
    assert example.source_message == liked["up"].message
    assert AuditEvent.objects.filter(event_type="tuning.example_from_answer", actor_username="dana").exists()
    queue = client.get(reverse("admin:tuning_answerreview_changelist")).context["cl"].result_list
    assert [feedback.used for feedback in queue] == [True]  # the queue shows which answers are done
    # Approving again does not make a second example.
    client.post(
        reverse("admin:tuning_answerreview_changelist"),
        {"action": "approve_as_examples", "_selected_action": [liked["up"].pk]},
    )
    assert ToneExample.objects.count() == 1


def test_a_copied_answer_is_edited_then_approved_and_only_then_enters_a_snapshot(client, dana, liked):
    client.force_login(dana)
    client.post(
        reverse("admin:tuning_answerreview_changelist"),
        {"action": "copy_to_edit", "_selected_action": [liked["up"].pk]},
    )
    example = ToneExample.objects.get()
    assert not example.approved
    response = client.post(
        reverse("admin:tuning_toneexample_change", args=[example.pk]),
        {"question": example.question, "answer": "Hola:\n\nTienes 23 días.\n\nUn saludo", "approved": "on"},
    )
    assert response.status_code == 302
    example.refresh_from_db()
    assert example.approved and example.answer.endswith("Tienes 23 días.\n\nUn saludo")
    snapshot = snapshot_create(
        approved_by=dana, examples=ToneExample.objects.filter(approved=True), chat_template="{{ messages }}"
    )
    assert snapshot.examples == [{"question": example.question, "answer": example.answer}]


def test_employees_cannot_reach_the_review_queue(client, charlie, liked):
    client.force_login(charlie)
    response = client.get(reverse("admin:tuning_answerreview_changelist"))
    assert response.status_code == 302  # to the admin login: not staff


def test_training_starts_from_a_snapshot_on_the_training_queue(client, dana, django_capture_on_commit_callbacks):
    snapshot = snapshot_create(
        approved_by=dana, examples=[{"question": "¿Hola?", "answer": "Hola."}] * 2, chat_template="{{ messages }}"
    )
    client.force_login(dana)
    with mock.patch.object(tune_tone, "apply_async") as send, django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:tuning_datasetsnapshot_changelist"),
            {"action": "train", "_selected_action": [snapshot.pk]},
        )
    assert response.status_code == 302
    run = TuningRun.objects.get()
    assert run.started_by == dana and run.status == TuningRun.Status.PENDING
    send.assert_called_once_with((run.pk,), queue="training")


def test_the_run_list_shows_live_progress_and_reloads_while_training(client, dana):
    snapshot = snapshot_create(approved_by=dana, examples=[{"question": "q", "answer": "a"}], chat_template="t")
    run = TuningRun.objects.create(
        snapshot=snapshot,
        base_model="m",
        status=TuningRun.Status.RUNNING,
        progress={"step": 3, "total_steps": 12, "loss": 2.1},
    )
    client.force_login(dana)
    page = client.get(reverse("admin:tuning_tuningrun_changelist")).content.decode()
    assert "step 3/12, loss 2.1" in page and 'http-equiv="refresh"' in page
    detail = client.get(reverse("admin:tuning_tuningrun_change", args=[run.pk])).content.decode()
    assert "step 3/12, loss 2.1" in detail and 'http-equiv="refresh"' in detail

    TuningRun.objects.filter(pk=run.pk).update(status=TuningRun.Status.SUCCEEDED)
    assert 'http-equiv="refresh"' not in client.get(reverse("admin:tuning_tuningrun_changelist")).content.decode()


def test_promote_from_the_admin_refuses_a_regressed_run(client, dana):
    snapshot = snapshot_create(approved_by=dana, examples=[{"question": "q", "answer": "a"}], chat_template="t")
    run = TuningRun.objects.create(
        snapshot=snapshot, base_model="m", status=TuningRun.Status.SUCCEEDED, metrics={"regressed": True}
    )
    client.force_login(dana)
    response = client.post(
        reverse("admin:tuning_tuningrun_changelist"), {"action": "promote", "_selected_action": [run.pk]}, follow=True
    )
    assert "cannot be promoted" in response.content.decode()
    run.refresh_from_db()
    assert not run.promoted


@pytest.mark.parametrize(
    ("language", "name"),
    [("es", "Respuestas por revisar (valoradas como útiles)"), ("en", "Answers to review (rated helpful)")],
)
def test_the_review_queue_is_named_in_words_in_the_sidebar(client, dana, language, name):
    # No emoji glyph: where no emoji font is installed the browser drew 👍 as an empty box.
    client.force_login(dana)
    page = client.get(reverse("admin:tuning_toneexample_changelist"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert name in page and "👍" not in page
