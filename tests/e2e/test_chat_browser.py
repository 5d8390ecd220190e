"""The chat in a real browser: log in, ask, watch the answer stream in, follow its citation to the passage.

Daphne serves the app from a forked process (``ChannelsLiveServerTestCase``) on the file-backed SQLite
test database; this process creates the data, indexes the vacation policy through the real pipeline and
drives Debian's Chromium with Playwright. The server process answers with the default backend (the
extractive answer); ``tests/e2e/test_chat_trust.py`` runs the packaged local model behind the grounding gate.

``FARO_SCREENSHOT_DIR=docs`` saves the README's picture of the chat (its own question, answered).
"""

from __future__ import annotations

import io
import os
import re
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.core.management import call_command
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from ingestion.search import get_search_backend
from tests.conftest import VACATION_PDF, index_document, make_user
from tests.system_packages import CHROMIUM, requires_chromium

# A loaded CI machine can take longer than Playwright's 5 s default to open a page or a socket.
expect.set_options(timeout=30_000)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VACATION_TITLE = "Política de vacaciones y permisos"
QUESTION = "¿Cuántos días de vacaciones tengo al año?"
ANSWER_PASSAGE = "23 días laborables"
FIRST_ANSWER_TIMEOUT_MS = 60_000  # the server process loads the embedder and the generator on first use

# Records every change to the first assistant answer (its state and its text), so that the test can
# tell afterwards what the page showed while the answer was still streaming, without racing it.
RECORD_ANSWER_JS = """
() => {
  window.faroAnswerLog = [];
  const messages = document.getElementById("messages");
  new MutationObserver(() => {
    const article = messages.querySelector("article.message.assistant");
    if (!article) return;
    window.faroAnswerLog.push({
      state: article.dataset.state,
      text: article.querySelector(".body").textContent,
    });
  }).observe(messages, { subtree: true, childList: true, characterData: true, attributes: true });
}
"""
TOKEN_SEEN_WHILE_STREAMING_JS = """
() => window.faroAnswerLog.some((entry) => entry.state === "streaming" && entry.text.trim() !== "")
"""


@pytest.mark.e2e
@pytest.mark.slow
@requires_chromium
class ChatBrowserTests(ChannelsLiveServerTestCase):
    playwright: ClassVar[Playwright]
    browser: ClassVar[Browser]

    @classmethod
    def setUpClass(cls) -> None:
        # As `make run` does before serving: the first run converts the packaged generator (20-45 s), which
        # would otherwise eat into the server's GENERATOR_TIMEOUT_SECONDS on the first answer.
        call_command("prepare_models", stdout=io.StringIO())
        super().setUpClass()  # forks the server first, so it does not inherit the flag below
        try:
            cls._start_browser()
        except BaseException:
            super().tearDownClass()  # tearDownClass is skipped when setUpClass fails: stop the server
            raise

    @classmethod
    def _start_browser(cls) -> None:
        # Playwright's sync API keeps an event loop marked as running in this thread, which Django's
        # guard takes for async code; the ORM calls here are plain synchronous test set-up.
        previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        cls.addClassCleanup(_restore_environ, "DJANGO_ALLOW_ASYNC_UNSAFE", previous)
        cls.playwright = sync_playwright().start()
        cls.addClassCleanup(cls.playwright.stop)
        cls.browser = cls.playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        cls.addClassCleanup(cls.browser.close)

    def setUp(self) -> None:
        backend = get_search_backend()
        backend.clear()
        self.addCleanup(backend.clear)  # the database is flushed after each test; the index is not

    def new_page(self) -> Page:
        context = self.browser.new_context(locale="es-ES")
        self.addCleanup(context.close)
        return context.new_page()

    def log_in(self, page: Page, username: str) -> None:
        page.goto(f"{self.live_server_url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "pw-" + username)
        page.press("#id_password", "Enter")
        expect(page).to_have_url(f"{self.live_server_url}/")

    def test_answer_streams_and_its_citation_opens_the_cited_passage(self) -> None:
        make_user("alice", "hr")
        document = index_document(VACATION_PDF, title=VACATION_TITLE)
        page = self.new_page()
        self.log_in(page, "alice")

        expect(page.locator("#send")).to_be_enabled()  # enabled once the websocket is open
        page.evaluate(RECORD_ANSWER_JS)
        page.fill("#question", QUESTION)
        page.press("#question", "Enter")

        answer = page.locator("article.message.assistant")
        page.wait_for_function(TOKEN_SEEN_WHILE_STREAMING_JS, timeout=FIRST_ANSWER_TIMEOUT_MS)
        expect(answer).to_have_attribute("data-state", "done", timeout=FIRST_ANSWER_TIMEOUT_MS)
        expect(answer.locator(".fallback")).to_have_count(0)
        log: list[dict[str, Any]] = page.evaluate("() => window.faroAnswerLog")
        streamed = [entry["text"] for entry in log if entry["state"] == "streaming" and entry["text"].strip()]
        assert streamed, f"expected the answer to appear while it streamed, saw {log}"
        assert all(later.startswith(earlier) for earlier, later in pairwise(streamed))
        # What the person reads: the answer itself, in its first sentence, with its citation chip.
        body = answer.locator(".body")
        expect(body).to_contain_text(ANSWER_PASSAGE)
        first_paragraph = body.locator("p").first
        expect(first_paragraph).to_contain_text(ANSWER_PASSAGE)
        chip = first_paragraph.locator("a.cite")
        expect(chip).to_have_count(1)
        expect(answer.locator(".badge")).to_be_visible()
        # Only the cited passage is listed as a source.
        expect(answer.locator("aside.sources li")).to_have_count(1)
        expect(answer.locator("aside.sources li")).to_contain_text(ANSWER_PASSAGE)
        if os.environ.get("FARO_SCREENSHOT_DIR"):
            page.screenshot(path=str(Path(os.environ["FARO_SCREENSHOT_DIR"]) / "chat.png"))

        chip.click()
        expect(page).to_have_url(re.compile(rf"/documents/{document.pk}/\?chunk=(\w+)#chunk-\1$"))
        expect(page.locator("h1")).to_have_text(VACATION_TITLE)
        passage = page.locator("#" + urlsplit(page.url).fragment)
        expect(passage).to_have_class(re.compile(r"\bhighlight\b"))
        expect(passage).to_contain_text(ANSWER_PASSAGE)
        expect(passage).to_be_in_viewport()

    def test_anonymous_visitor_is_sent_to_the_login_page(self) -> None:
        page = self.new_page()
        page.goto(f"{self.live_server_url}/")
        expect(page).to_have_url(f"{self.live_server_url}/login/?next=/")
        expect(page.locator("#id_username")).to_be_visible()


def _restore_environ(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
