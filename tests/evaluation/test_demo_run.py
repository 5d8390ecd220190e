"""The dashboard's "run the demo evaluation now" button (evaluation/views.py demo_run): auditors queue one
run of the demo gold set for the worker; nobody else can."""

from __future__ import annotations

import pytest
from django.test import Client

from evaluation import views


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(views.evaluate_demo, "delay", lambda *args: calls.append(args))
    return calls


def test_an_auditor_queues_the_demo_evaluation_once_the_request_commits(
    auditor, queued, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/evaluation/demo-run/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == "/evaluation/"
    assert queued == [()]
    page = client.get("/evaluation/", HTTP_ACCEPT_LANGUAGE="en")
    assert "The demo evaluation is queued." in page.content.decode()
    assert "manage.py" not in page.content.decode()


def test_only_auditors_may_queue_it_and_only_by_post(auditor, charlie, dana, queued):
    client = Client()
    assert client.post("/evaluation/demo-run/").status_code == 302  # to the login page
    for person in (charlie, dana):
        client.force_login(person)
        assert client.post("/evaluation/demo-run/").status_code == 403
    client.force_login(auditor)
    assert client.get("/evaluation/demo-run/").status_code == 405
    assert queued == []
