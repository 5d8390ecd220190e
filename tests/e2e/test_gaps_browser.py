"""The gaps page in a real browser: a knowledge admin sees a seeded history grouped into its topics with
their charts, marks one handled with a note and finds it under "handled", and exports CSV; an employee is
refused."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.e2e import test_chat_browser as chat_browser  # the module, so its class is not collected twice
from tests.gaps.test_gaps import seed

CHROMIUM = chat_browser.CHROMIUM


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
)
class GapsBrowserTests(chat_browser.ChatBrowserTests):
    # The parent's own tests run in their own class; only the ones below run here.
    test_answer_streams_and_its_citation_opens_the_cited_passage = None  # type: ignore[assignment]
    test_anonymous_visitor_is_sent_to_the_login_page = None  # type: ignore[assignment]

    def test_a_knowledge_admin_sees_the_topics_and_marks_one_handled(self) -> None:
        seed(make_user("alice", "hr"))
        make_user("dana", "knowledge-admins", is_staff=True)
        make_user("charlie", "sales")

        page = self.new_page()
        page.set_viewport_size({"width": 1280, "height": 1400})
        self.log_in(page, "dana")
        page.goto(f"{self.live_server_url}/gaps/")
        topics = page.locator("article.gap")
        expect(topics).to_have_count(3)
        expect(page.locator('figure[data-metric="gaps"] svg')).to_have_count(1)
        expect(topics.locator("svg")).to_have_count(3)
        laptop = topics.filter(has_text="How do I request a new laptop?")
        expect(laptop.locator(".count")).to_have_text("5")
        expect(laptop.locator(".terms")).to_contain_text("laptop")

        with page.expect_download() as download:
            page.click("a.export")
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        assert len(rows) == 13

        laptop.locator('input[name="note"]').fill("Guía de equipos publicada")
        laptop.locator('form.mark button[type="submit"]').click()
        expect(page.locator("article.gap")).to_have_count(2)
        expect(page.locator("table.handled tbody tr")).to_have_count(1)
        expect(page.locator("table.handled")).to_contain_text("Guía de equipos publicada")

        other = self.new_page()
        self.log_in(other, "charlie")
        response = other.goto(f"{self.live_server_url}/gaps/")
        assert response is not None and response.status == 403
