"""A question only another group's documents answer (issue 19, item 7), in Chromium against the real stack:
the Sales employee reads the plain refusal about the documents *they* can read, no quote, nothing of the HR
document, and nothing that tells it exists.

The screenshot is saved under ``FARO_E2E_SCREENSHOTS`` (default: ``<tmp>/faro-e2e``): look at it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from chatbot.models import Message
from tests.conftest import BENEFITS_MD, VACATION_PDF, index_document, make_user
from tests.e2e import test_chat_browser as chat_browser  # the module, so its class is not collected twice

SHOTS = Path(os.environ.get("FARO_E2E_SCREENSHOTS") or Path(tempfile.gettempdir()) / "faro-e2e")
BENEFITS_TITLE = "Beneficios sociales y retribución 2026"
HR_ONLY_QUESTION = "¿Cuál es la banda salarial de un ingeniero sénior?"


@pytest.mark.e2e
@pytest.mark.slow
@chat_browser.requires_chromium
@override_settings(LLM_BACKEND="extractive")
class OtherGroupsRefusalBrowserTests(chat_browser.ChatBrowserTests):
    # The parent's own tests run in their own class; only the one below runs here.
    test_answer_streams_and_its_citation_opens_the_cited_passage = None  # type: ignore[assignment]
    test_anonymous_visitor_is_sent_to_the_login_page = None  # type: ignore[assignment]

    def test_a_sales_employee_asking_what_only_hr_can_read_gets_the_plain_refusal_and_no_quote(self) -> None:
        make_user("charlie", "sales")
        index_document(VACATION_PDF, title="Política de vacaciones y permisos")
        index_document(BENEFITS_MD, title=BENEFITS_TITLE, groups=("hr",))
        page = self.new_page()
        page.set_viewport_size({"width": 1280, "height": 800})
        self.log_in(page, "charlie")
        expect(page.locator("#send")).to_be_enabled()  # the websocket is open

        page.fill("#question", HR_ONLY_QUESTION)
        page.press("#question", "Enter")
        answer = page.locator("article.message.assistant")
        expect(answer).to_have_attribute("data-state", "done", timeout=chat_browser.FIRST_ANSWER_TIMEOUT_MS)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "other-groups-refusal.png"))

        expect(answer).to_have_attribute("data-refused", "true")
        expect(answer.locator(".badge")).to_have_text("No está en la documentación")
        expect(answer.locator(".body p").first).to_have_text(
            "Ninguno de los documentos que puedes consultar responde a esto, así que prefiero no responder de memoria."
        )
        # No quote: neither an answer quoted from a passage nor a passage's text under the closest documents.
        expect(answer.locator("blockquote")).to_have_count(0)
        expect(answer.locator(".body")).not_to_contain_text("Según")
        # Nothing of the HR document, and no word that other documents exist.
        expect(page.locator("#messages")).not_to_contain_text("40.000")
        expect(page.locator("#messages")).not_to_contain_text(BENEFITS_TITLE)
        stored = Message.objects.get(role="assistant")
        assert stored.refused and stored.model == "none"
