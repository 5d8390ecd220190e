"""The evaluation dashboard in a real browser: an auditor opens it after two real ``evaluate_answers`` runs
(extractive generator, real retrieval) and sees a chart per metric and the runs with their model and index
version; an employee is refused. ``FARO_SCREENSHOT_DIR=docs`` saves docs/evaluation.png."""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from playwright.sync_api import expect

from tests.conftest import BENEFITS_MD, TELEWORK_DOCX, VACATION_PDF, index_document, make_user
from tests.e2e import test_chat_browser as chat_browser  # the module, so its class is not collected twice
from tests.system_packages import requires_chromium


def _two_runs() -> None:
    try:
        for _ in range(2):
            call_command("evaluate_answers", "--set", "demo", "--limit", "12", "--repeats", "2", stdout=io.StringIO())
    finally:
        connections.close_all()


@pytest.mark.e2e
@pytest.mark.slow
@requires_chromium
@override_settings(LLM_BACKEND="extractive")
class EvaluationDashboardBrowserTests(chat_browser.ChatBrowserTests):
    # The parent's own tests run in their own class; only the ones below run here.
    test_answer_streams_and_its_citation_opens_the_cited_passage = None  # type: ignore[assignment]
    test_anonymous_visitor_is_sent_to_the_login_page = None  # type: ignore[assignment]

    def test_an_auditor_sees_each_metric_over_time_and_the_runs(self) -> None:
        index_document(VACATION_PDF, title="Política de vacaciones y permisos")
        index_document(TELEWORK_DOCX, title="Política de teletrabajo")
        index_document(BENEFITS_MD, title="Beneficios sociales y retribución 2026", groups=("hr",))
        with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's event loop owns this thread
            pool.submit(_two_runs).result()
        make_user("audrey", "auditors", is_staff=True)
        make_user("charlie", "sales")

        page = self.new_page()
        page.set_viewport_size({"width": 1280, "height": 1400})
        self.log_in(page, "audrey")
        page.goto(f"{self.live_server_url}/evaluation/")
        expect(page.locator("h1")).to_have_text("Evaluación continua")
        charts = page.locator("figure.chart")
        assert charts.count() >= 10
        expect(page.locator('figure[data-metric="groundedness"] svg circle')).to_have_count(2)
        expect(page.locator("table.runs tbody tr")).to_have_count(2)
        expect(page.locator("table.runs tbody tr").first).to_contain_text("extractive")
        expect(page.locator("table.runs tbody tr").first).to_contain_text("live ")
        if os.environ.get("FARO_SCREENSHOT_DIR"):
            page.screenshot(path=str(Path(os.environ["FARO_SCREENSHOT_DIR"]) / "evaluation.png"), full_page=True)

        other = self.new_page()
        self.log_in(other, "charlie")
        response = other.goto(f"{self.live_server_url}/evaluation/")
        assert response is not None and response.status == 403
