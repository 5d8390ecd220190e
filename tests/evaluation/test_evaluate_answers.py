"""``evaluate_answers`` end to end: the real answer flow (extractive generator, real retrieval and model),
runs stored with their metrics, regressions flagged, and the dashboard for auditors and administrators."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from chatbot.models import Conversation
from chatbot.services import question_record
from evaluation.answers import EVALUATION_USERNAME, evaluation_user
from evaluation.goldsets import gold_set_import_file
from evaluation.models import EvaluationRun, GoldSet
from governance.models import AuditEvent
from ingestion.embed import get_embedder
from tests.evaluation.test_goldsets import write_beir

pytestmark = pytest.mark.django_db(transaction=True)

TINY = {
    "name": "tiny",
    "groups": ["hr"],
    "questions": [
        {
            "key": "vacation",
            "question": "¿Cuántos días de vacaciones tengo al año?",
            "expected_documents": ["Política de vacaciones y permisos"],
            "reference_answer": "23 días laborables al año.",
            "answerable": True,
        },
        {
            "key": "life-insurance",
            "question": "¿Qué cubre el seguro de vida y accidentes?",
            "expected_documents": ["Beneficios sociales y retribución 2026"],
            "reference_answer": "Dos veces el salario bruto anual fijo.",
            "answerable": True,
        },
        {"key": "football", "question": "¿Quién ganó el mundial de 1986?", "answerable": False},
    ],
}


@pytest.fixture
def extractive(settings):
    settings.LLM_BACKEND = "extractive"


@pytest.fixture
def tiny(tmp_path) -> GoldSet:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    return gold_set_import_file(path=path)


def test_a_run_measures_the_answer_flow_and_is_stored(policies, tiny, extractive, tmp_path, capsys):
    output = tmp_path / "run.json"
    # A conversation the account has open elsewhere (another evaluation running at the same time) is kept.
    elsewhere, _ = question_record(user=evaluation_user(["hr"]), conversation_id=None, question="en curso")
    call_command("evaluate_answers", "--set", "tiny", "--repeats", "2", "--json", str(output))
    run = EvaluationRun.objects.get()
    metrics = run.metrics
    # The HR-only benefits document is found because the evaluation account asks with the set's groups.
    assert metrics["hit@k"] == 1.0 and metrics["ndcg@10"] > 0.5
    assert metrics["refusal_accuracy"] == 1.0 and metrics["false_refusal_rate"] == 0.0
    assert 0.5 <= metrics["citation_precision"] <= 1.0  # extractive answers may also quote a second document
    assert metrics["groundedness"] == 1.0  # extractive answers quote their passages
    assert metrics["language_match"] == 1.0
    assert metrics["stability_citations"] == 1.0 and metrics["stability_answers"] == 1.0
    assert 0.0 <= metrics["bias_answer_difference"] <= 1.0
    assert metrics["latency_p95_ms"] >= metrics["latency_p50_ms"] > 0
    assert (run.model, run.questions, run.repeats) == ("extractive", 3, 2)
    assert run.index_version.startswith("live ")
    records = {r["key"]: r for r in run.details["questions"]}
    assert records["vacation"]["cited"][0] == "Política de vacaciones y permisos"
    assert records["football"]["refused"] is True
    assert len(run.details["bias_probe"]) == 4  # two answerable questions x (gender, origin)
    # Every asking went through the audited answer flow; the conversations the run opened are gone.
    turns = AuditEvent.objects.filter(event_type="chat.turn", actor_username=EVALUATION_USERNAME).count()
    assert turns == 3 * 2 + 4 * 2
    assert list(Conversation.objects.filter(user__username=EVALUATION_USERNAME)) == [elsewhere]
    assert json.loads(output.read_text())["metrics"] == metrics
    assert "citation_precision" in capsys.readouterr().out


def test_a_worse_run_is_flagged_against_the_previous_one(policies, tiny, extractive, settings):
    call_command("evaluate_answers", "--set", "tiny", "--repeats", "1", "--no-bias-probe")
    settings.ANSWER_MIN_EVIDENCE = 2.0  # now every question is refused
    call_command("evaluate_answers", "--set", "tiny", "--repeats", "1", "--no-bias-probe")
    first, second = EvaluationRun.objects.order_by("id")
    assert first.regressions == []
    flagged = {r["metric"] for r in second.regressions}
    assert "false_refusal_rate" in flagged
    assert second.metrics["false_refusal_rate"] == 1.0


def test_a_beir_set_is_answered_from_a_throwaway_index(search_index, extractive, tmp_path, alice):
    folder = write_beir(tmp_path / "tiny-beir")
    call_command("import_gold_set", "--beir", str(folder), "--name", "tiny-beir")
    call_command("evaluate_answers", "--set", "tiny-beir", "--repeats", "1", "--limit", "1", "--no-bias-probe")
    run = EvaluationRun.objects.get()
    record = run.details["questions"][0]
    assert record["key"] == "q1" and record["retrieved"][0] == "d1" and record["hit"] == 1.0
    assert run.index_version.startswith("tiny-beir ")
    vector = get_embedder().embed(["days of leave"])[0]
    assert search_index.search("days of leave", vector, principals=frozenset({"public"}), k=5) == []  # live: empty


def test_unknown_sets_are_refused(db):
    with pytest.raises(CommandError, match="no gold set"):
        call_command("evaluate_answers", "--set", "nope")


def test_the_nightly_run_is_scheduled(settings):
    from config.celery import app
    from evaluation import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["evaluate-answers-nightly"]
    assert entry["task"] == tasks.evaluate_nightly.name and entry["task"] in app.tasks
    assert settings.EVALUATION_NIGHTLY_SETS == ["demo"]


def test_the_dashboard_is_for_auditors_and_administrators(policies, tiny, extractive, auditor, charlie, dana):
    call_command("evaluate_answers", "--set", "tiny", "--repeats", "1", "--no-bias-probe")
    client = Client()
    for user in (charlie, dana):
        client.force_login(user)
        assert client.get("/evaluation/").status_code == 403
    client.force_login(auditor)
    response = client.get("/evaluation/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") >= 8 and "Citation precision" in page and "extractive" in page
    assert "live " in page  # the index version of the run
    client.logout()
    assert client.get("/evaluation/").status_code == 302
