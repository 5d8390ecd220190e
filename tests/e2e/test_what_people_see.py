"""What a person sees around the answers (issue 19), in Chromium against the real stack: the chat at desktop
1280x800 and phone 390x844 and by keyboard, the knowledge admin's document list and upload form, the
auditor's audit log and evaluation dashboard, and axe-core's accessibility rules on each page.

Each test saves its screenshots under ``FARO_E2E_SCREENSHOTS`` (default: ``<tmp>/faro-e2e``): look at them.
axe-core comes from npm (``cd tests/a11y && npm ci``); without it the accessibility assertions skip.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from playwright.sync_api import Page, WebSocketRoute, expect

from chatbot.models import Message
from ingestion.models import Chunk, Document
from tests.conftest import TELEWORK_DOCX, VACATION_PDF, index_document, make_user
from tests.e2e import test_chat_browser as chat_browser  # the module, so its class is not collected twice

CHROMIUM, FIRST_ANSWER_TIMEOUT_MS = chat_browser.CHROMIUM, chat_browser.FIRST_ANSWER_TIMEOUT_MS
AXE = Path(__file__).resolve().parent.parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("FARO_E2E_SCREENSHOTS") or Path(tempfile.gettempdir()) / "faro-e2e")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VACATION_TITLE = "Política de vacaciones y permisos"
QUESTIONS = (
    "¿Cuántos días a la semana puedo teletrabajar?",
    "¿Cuántos días de vacaciones tengo al año?",
    "¿Cuántos días de permiso tengo por fallecimiento de un familiar?",  # cites a table: Markdown in the quote
)

# Every change to the first answer's bubble, in order: what it said while the answer was on its way.
RECORD_BUBBLE_JS = """
() => {
  window.faroBubbleLog = [];
  window.faroAnnouncements = [];
  const messages = document.getElementById("messages");
  new MutationObserver(() => {
    const article = messages.querySelector("article.message.assistant");
    if (!article) return;
    const progress = article.querySelector(".progress");
    window.faroBubbleLog.push({
      state: article.dataset.state,
      progress: progress ? progress.textContent : null,
      sources: article.querySelectorAll("aside.sources li").length,
      body: article.querySelector(".body").textContent,
    });
  }).observe(messages, { subtree: true, childList: true, characterData: true, attributes: true });
  const announcer = document.getElementById("announcer");
  new MutationObserver(() => window.faroAnnouncements.push(announcer.textContent))
    .observe(announcer, { subtree: true, childList: true, characterData: true });
}
"""
AT_BOTTOM_JS = """
() => { const m = document.getElementById("messages"); return m.scrollHeight - m.scrollTop - m.clientHeight; }
"""
OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# The placeholder's width in the textarea's own font, against the room the textarea gives it.
PLACEHOLDER_FITS_JS = """
(area) => {
  const style = getComputedStyle(area);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontSize} ${style.fontFamily}`;
  const room = area.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return context.measureText(area.placeholder).width <= room;
}
"""
AXE_JS = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 4).map((n) => n.html) }));
}
"""


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def serious_accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed: cd tests/a11y && npm ci (looked for {AXE})")
    return page.evaluate(AXE_JS)  # type: ignore[no-any-return]


def _demo_evaluation() -> None:
    try:
        call_command("evaluate_answers", "--set", "demo", "--limit", "4", "--repeats", "1", stdout=io.StringIO())
    finally:
        connections.close_all()


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
)
@override_settings(LLM_BACKEND="extractive")
class WhatPeopleSeeBrowserTests(chat_browser.ChatBrowserTests):
    # The parent's own tests run in their own class; only the ones below run here.
    test_answer_streams_and_its_citation_opens_the_cited_passage = None  # type: ignore[assignment]
    test_anonymous_visitor_is_sent_to_the_login_page = None  # type: ignore[assignment]

    def new_page(self) -> Page:
        page = super().new_page()
        if AXE.exists():
            # Before every document's own scripts, as the browser's (Faro's Content-Security-Policy refuses
            # a script added to the page, rightly).
            page.context.add_init_script(path=str(AXE))
        return page

    def open_page(self, username: str, viewport: dict[str, int]) -> Page:
        page = self.new_page()
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        self.log_in(page, username)
        return page

    def ask_by_keyboard(self, page: Page, question: str, count: int) -> Any:
        expect(page.locator("#question")).to_be_focused()  # the page and every finished answer focus it
        page.keyboard.type(question)
        page.keyboard.press("Enter")
        answer = page.locator("article.message.assistant").nth(count - 1)
        expect(answer).to_have_attribute("data-state", "done", timeout=FIRST_ANSWER_TIMEOUT_MS)
        return answer

    # Windows of 200 tokens, so that a section of the vacation policy spans two overlapping chunks whatever the
    # model (step 9 checks the overlap is printed once): at 256, the multilingual default's SentencePiece
    # count (fewer pieces per Spanish word than MiniLM's WordPiece) leaves one overlap, a repeated table header.
    @override_settings(CHUNK_MAX_TOKENS=200)
    def test_the_chat_at_desktop_size_by_keyboard(self) -> None:
        index_document(VACATION_PDF, title=VACATION_TITLE)
        index_document(TELEWORK_DOCX, title="Política de teletrabajo")
        make_user("alice", "hr")
        page = self.open_page("alice", DESKTOP)
        expect(page.locator("#send")).to_be_enabled()
        page.evaluate(RECORD_BUBBLE_JS)

        # 2. What is happening before the first word: searching, then n sources found (listed), then writing.
        first = self.ask_by_keyboard(page, QUESTIONS[0], 1)
        log: list[dict[str, Any]] = page.evaluate("() => window.faroBubbleLog")
        waiting = [entry for entry in log if entry["state"] == "streaming" and not entry["body"].strip()]
        assert any(entry["progress"] == "Buscando en la documentación…" for entry in waiting), log
        found = [entry for entry in waiting if re.fullmatch(r"\d+ fuentes? encontradas?", entry["progress"] or "")]
        assert found and found[-1]["sources"] == int(found[-1]["progress"].split()[0]) > 0, log
        writing = [entry["progress"] for entry in log if entry["state"] == "streaming" and entry["body"].strip()]
        assert writing and all(text.endswith("escribiendo la respuesta…") for text in writing), log
        expect(first.locator(".progress")).to_have_count(0)  # gone with the finished answer

        # 6. The message list is not a live region; the finished answer is announced once, whole.
        assert page.locator("#messages").get_attribute("aria-live") is None
        assert (
            page.locator("[aria-live], [role=status], [role=log], [role=alert]")
            .filter(has=page.locator("article"))
            .count()
            == 0
        )
        announcements = [text for text in page.evaluate("() => window.faroAnnouncements") if text.strip()]
        assert len(announcements) == 1, announcements
        assert first.locator(".body").inner_text().strip()[:60] in announcements[0]

        # 3. Later answers finish in view: the list follows them to the end.
        for number, question in enumerate(QUESTIONS[1:], start=2):
            self.ask_by_keyboard(page, question, number)
            assert page.evaluate(AT_BOTTOM_JS) < 48
            expect(page.locator("article.message.assistant").nth(number - 1).locator(".actions")).to_be_in_viewport()
        shot(page, "chat-desktop")

        # 8. Source quotes read as text, not Markdown (the stored passages have it).
        stored = [source["quote"] for message in Message.objects.filter(role="assistant") for source in message.sources]
        assert any("**" in quote or "| ---" in quote for quote in stored), stored  # the case is exercised
        for quote in page.locator("aside.sources blockquote").all_inner_texts():
            assert not re.search(r"\*\*|\||-{3}|^#", quote), quote

        # 5. Feedback buttons are drawn icons with their words; rename and delete are named, drawn and sized.
        answer = page.locator("article.message.assistant").last
        up, down = answer.locator("button.vote.up"), answer.locator("button.vote.down")
        expect(up).to_have_accessible_name("Útil")
        expect(down).to_have_accessible_name("No útil")
        expect(up.locator("svg")).to_be_visible()
        assert "👍" not in up.inner_text() and "👎" not in down.inner_text()
        for button in page.locator("#conversation-list button.icon").all():
            assert button.inner_text().strip() == "" and button.locator("svg").count() == 1
            box = button.bounding_box()
            assert box is not None and box["width"] >= 24 and box["height"] >= 24
            assert button.evaluate("(b) => getComputedStyle(b).opacity") == "1"
        expect(page.locator("#conversation-list button.rename").first).to_have_accessible_name("Renombrar")
        # By keyboard: from the question back to the last answer's "Not helpful", and vote.
        down.focus()
        page.keyboard.press("Enter")
        expect(down).to_have_attribute("aria-pressed", "true")
        expect(answer.locator(".feedback-comment textarea")).to_be_focused()
        assert serious_accessibility_violations(page) == []

        # 3. Reopening the conversation lands on its latest turn, not in the middle.
        page.goto(page.url)
        expect(page.locator("article.message.assistant")).to_have_count(3)
        expect(page.locator("article.message.user").last).to_be_in_viewport()
        expect(page.locator("article.message.user").last).to_have_text(QUESTIONS[2])
        shot(page, "chat-reopened")

        # 9. The viewer a citation opens: the document once, in reading order, the cited passage highlighted.
        chip = page.locator("article.message.assistant").nth(1).locator(".body a.cite").first  # the vacation policy
        chip.focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/documents/\d+/\?chunk=(\w+)#chunk-\1$"))
        passage = page.locator("section.passage.highlight")
        expect(passage).to_have_count(1)
        expect(passage).to_be_in_viewport()
        cited = Chunk.objects.get(chunk_id=urlsplit(page.url).fragment.removeprefix("chunk-"))
        expect(passage).to_contain_text(" ".join(cited.text.split()[:6]))
        shown = " ".join(page.locator("article.document").inner_text().split())
        chunks = list(cited.document.chunks.order_by("ordinal"))
        repeated = 0
        for before, after in pairwise(chunks):
            opening = " ".join(after.text.split()[:7])
            markdown = re.search(r"[*|#_`>]|(^|\s)[-+]\s", opening)  # rendered, so not shown as written
            if before.section == after.section and opening in " ".join(before.text.split()) and not markdown:
                repeated += 1
                assert shown.count(opening) == 1, opening  # the chunks' overlap is printed once
        assert repeated, "no overlapping chunks: the check above did not run"
        shot(page, "viewer")
        assert serious_accessibility_violations(page) == []

    def test_while_an_answer_is_on_its_way(self) -> None:
        """The socket goes through a relay that can hold the server's messages back (Playwright's
        route_web_socket), so that the page can be seen between them, whatever the machine's speed."""
        index_document(VACATION_PDF, title=VACATION_TITLE)
        make_user("alice", "hr")
        page = self.new_page()
        page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
        holding: list[bool] = [False]
        held: list[str | bytes] = []
        relay: list[WebSocketRoute] = []

        def route(socket: WebSocketRoute) -> None:
            server = socket.connect_to_server()
            relay.append(socket)

            def from_server(message: str | bytes) -> None:
                kind = json.loads(message)["type"]
                if (holding[0] and kind not in ("conversation", "retrieved")) or held:
                    held.append(message)
                else:
                    socket.send(message)

            server.on_message(from_server)

        def release(*kinds: str) -> None:
            while held and json.loads(held[0])["type"] in kinds:
                relay[-1].send(held.pop(0))

        page.route_web_socket(re.compile(r"/ws/chat/$"), route)
        self.log_in(page, "alice")
        expect(page.locator("#send")).to_be_enabled()
        for number, question in enumerate(QUESTIONS[1:], start=1):  # enough history to scroll
            self.ask_by_keyboard(page, question, number)

        holding[0] = True
        page.keyboard.type("¿Cómo solicito las vacaciones?")
        page.keyboard.press("Enter")
        answer = page.locator("article.message.assistant").nth(2)
        # 2. Searched: the sources are listed and counted before any word of the answer.
        expect(answer.locator(".progress")).to_have_text(re.compile(r"^\d+ fuentes? encontradas?$"))
        expect(answer.locator("aside.sources h2")).to_have_text("Fuentes encontradas")
        count = int(answer.locator(".progress").inner_text().split()[0])
        expect(answer.locator("aside.sources li")).to_have_count(count)
        expect(answer.locator("aside.sources blockquote")).to_have_count(0)  # titles only: the bubble stays short
        expect(answer.locator(".progress")).to_be_in_viewport()
        assert page.evaluate(AT_BOTTOM_JS) < 48  # 3. followed
        shot(page, "chat-sources-found")
        # The words arrive (the answer is not done yet): "writing", still followed.
        for _ in range(240):  # until the server has written the whole answer; it waits in the relay
            if any(json.loads(message)["type"] == "done" for message in held):
                break
            page.wait_for_timeout(250)  # Playwright delivers the relay's messages while it waits
        release("token")
        expect(answer.locator(".progress")).to_have_text(re.compile(r"encontradas? · escribiendo la respuesta…$"))
        expect(answer.locator(".body")).not_to_be_empty()
        assert answer.get_attribute("data-state") == "streaming"
        assert page.evaluate(AT_BOTTOM_JS) < 48
        expect(answer.locator(".progress")).to_be_in_viewport()
        shot(page, "chat-writing")
        # 3. The person scrolls up to read: the rest of the answer does not pull the list back down.
        page.mouse.move(640, 300)
        page.mouse.wheel(0, -5000)
        page.wait_for_function("() => document.getElementById('messages').scrollTop === 0")
        holding[0] = False
        release("token", "sources", "done")
        expect(answer).to_have_attribute("data-state", "done")
        page.wait_for_timeout(300)
        assert page.evaluate("() => document.getElementById('messages').scrollTop") == 0
        expect(page.locator("article.message.user").first).to_be_in_viewport()

    def test_the_chat_on_a_phone(self) -> None:
        index_document(VACATION_PDF, title=VACATION_TITLE)
        make_user("alice", "hr")
        page = self.open_page("alice", PHONE)
        expect(page.locator("#send")).to_be_enabled()
        self.ask_by_keyboard(page, QUESTIONS[1], 1)

        # 4. The top bar's name and "Log out" sit on one line; the question's placeholder is not cut off.
        name, log_out = page.locator(".topbar .who").bounding_box(), page.locator(".topbar button.link").bounding_box()
        assert name and log_out and abs((name["y"] + name["height"] / 2) - (log_out["y"] + log_out["height"] / 2)) < 3
        assert page.locator("#question").evaluate(PLACEHOLDER_FITS_JS), page.locator("#question").get_attribute(
            "placeholder"
        )
        assert page.evaluate(OVERFLOW_JS) <= 0
        shot(page, "chat-phone")
        assert serious_accessibility_violations(page) == []

        # 4. The drawer, by keyboard: its toggle opens it, stays visible above it, and Esc closes it.
        toggle, sidebar = page.locator("#toggle-sidebar"), page.locator("#sidebar")
        page.locator(".topbar .brand").focus()
        for _ in range(8):  # from the top of the page: brand, log out, language, then the toggle
            page.keyboard.press("Tab")
            if toggle.evaluate("(button) => button === document.activeElement"):
                break
        expect(toggle).to_be_focused()
        page.keyboard.press("Enter")
        expect(sidebar).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#new-conversation")).to_be_focused()
        shot(page, "chat-phone-drawer")
        box = toggle.bounding_box()
        assert box is not None
        on_top = page.evaluate(
            "([x, y]) => document.getElementById('toggle-sidebar').contains(document.elementFromPoint(x, y))",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert on_top, "the drawer covers its own toggle"
        page.keyboard.press("Escape")
        expect(sidebar).to_be_hidden()
        expect(toggle).to_be_focused()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        # By touch: the toggle closes it, and so does a tap outside it.
        toggle.click()
        expect(sidebar).to_be_visible()
        toggle.click()
        expect(sidebar).to_be_hidden()
        toggle.click()
        expect(sidebar).to_be_visible()
        page.mouse.click(PHONE["width"] - 20, PHONE["height"] / 2)
        expect(sidebar).to_be_hidden()

    def test_the_knowledge_admin_document_list_and_upload(self) -> None:
        dana = make_user("dana", "knowledge-admins", is_staff=True)
        index_document(VACATION_PDF, title=VACATION_TITLE, owner=dana)
        page = self.open_page("dana", DESKTOP)
        page.goto(f"{self.live_server_url}/admin/ingestion/document/")
        # 11. Every label in Spanish, and the list fits 1280 px.
        headers = page.locator("#result_list thead th").all_inner_texts()
        assert [h.strip() for h in headers[1:]] == [
            "TÍTULO",
            "ESTADO",
            "MOTIVO",
            "VERSIÓN",
            "IDIOMA",
            "PASAJES",
            "ACTUALIZADO",
        ], headers
        expect(page.locator(".object-tools")).to_contain_text(re.compile("añadir documento", re.IGNORECASE))
        assert page.evaluate(OVERFLOW_JS) <= 0
        expect(page.locator("#result_list thead th").last).to_be_in_viewport(ratio=1)
        shot(page, "admin-list")
        # A title named after its file (no spaces, the default on upload) wraps within its column too.
        title = page.locator("#result_list tbody th.field-title").first
        title.locator("a").evaluate("(link, text) => { link.textContent = text; }", "informe_" * 20 + "2026.pdf")
        assert page.evaluate(OVERFLOW_JS) <= 0
        expect(page.locator("#result_list thead th").last).to_be_in_viewport(ratio=1)
        box = title.bounding_box()
        assert box is not None and box["width"] <= 22 * 16 + 40, box  # 22rem and the cell's padding

        # 10. An upload without a title, refused for another reason, keeps its file; then saves, titled.
        page.goto(f"{self.live_server_url}/admin/ingestion/document/add/")
        expect(page.locator("label[for=id_title]")).not_to_have_class(re.compile(r"\brequired\b"))
        page.set_input_files("#id_file", str(TELEWORK_DOCX))
        page.uncheck("#id_all_staff")
        page.click("input[name=_save]")
        expect(page.locator(".errornote, .errorlist").first).to_be_visible()
        shot(page, "admin-add-error", full_page=True)
        expect(page.locator(".errorlist")).not_to_contain_text("obligatorio")
        assert page.locator("#id_file").evaluate("(input) => Array.from(input.files).map((f) => f.name)") == [
            TELEWORK_DOCX.name
        ]
        page.check("#id_all_staff")
        page.click("input[name=_save]")
        expect(page).to_have_url(f"{self.live_server_url}/admin/ingestion/document/")
        uploaded = Document.objects.exclude(title=VACATION_TITLE).get()
        assert uploaded.title and uploaded.original_name == TELEWORK_DOCX.name

        # 11. The live columns follow the worker without a reload (it asks for every unsettled row).
        row = page.locator("#result_list tbody tr").filter(has=page.locator(f"[data-document='{uploaded.pk}']"))
        Document.objects.filter(pk=uploaded.pk).update(
            status=Document.Status.PROCESSING, stage=Document.Stage.EMBEDDING, progress=0, progress_detail="0%"
        )
        page.reload()
        expect(row.locator(".faro-progress")).to_have_text("procesando · vectorizando 0%")
        Document.objects.filter(pk=uploaded.pk).update(status=Document.Status.INDEXED, language="es", chunk_count=9)
        expect(row.locator(".faro-progress")).to_have_text("indexado", timeout=15_000)
        expect(row.locator(".field-language")).to_have_text("es")
        expect(row.locator(".field-chunk_count")).to_have_text("9")

        # 11. "Upload many" has the admin's form styles, like every other admin form.
        page.goto(f"{self.live_server_url}/admin/ingestion/document/bulk-upload/")
        label = page.locator("label[for=id_uploads]").bounding_box()
        assert label is not None and label["width"] >= 150  # forms.css's aligned label column
        expect(page.locator("#content h1, #content-main")).not_to_have_count(0)
        shot(page, "admin-bulk")

    def test_the_auditor_pages(self) -> None:
        index_document(VACATION_PDF, title=VACATION_TITLE)
        make_user("audrey", "auditors", is_staff=True)
        login = self.new_page()
        login.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
        login.goto(f"{self.live_server_url}/login/")
        assert serious_accessibility_violations(login) == []

        page = self.open_page("audrey", DESKTOP)
        # 12. A new install: the dashboard says what it shows and offers to run the demo evaluation.
        page.goto(f"{self.live_server_url}/evaluation/")
        expect(page.locator("main")).not_to_contain_text("manage.py")
        expect(page.locator(".intro")).to_be_visible()
        run = page.get_by_role("button", name="Ejecutar ahora la evaluación de demostración")
        expect(run).to_be_visible()
        shot(page, "dashboard-empty")
        assert serious_accessibility_violations(page) == []
        run.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".message-banner")).to_contain_text("en cola")

        # 13. The audit log fits 1280 px, a date stays on one line, details read as fields with the JSON behind.
        page.goto(f"{self.live_server_url}/audit/")
        assert page.evaluate(OVERFLOW_JS) <= 0
        shot(page, "audit")
        when = page.locator("table.audit tbody td.when time").first
        lines = when.evaluate("(t) => t.getBoundingClientRect().height / parseFloat(getComputedStyle(t).lineHeight)")
        assert lines < 1.5, f"the date takes {lines:.1f} lines"
        login_row = page.locator("table.audit tbody tr").filter(has_text="auth.login").first
        expect(login_row.locator("dl.fields dt").first).to_have_text("backend")
        expect(page.locator("table.audit")).not_to_contain_text("{'")
        expect(login_row.locator("details pre")).to_be_hidden()
        login_row.locator("details summary").focus()
        page.keyboard.press("Enter")
        expect(login_row.locator("details pre")).to_contain_text('"backend": "accounts.backends.')
        shot(page, "audit-details")
        assert serious_accessibility_violations(page) == []

        # 12. With runs, each chart says what it means.
        with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's event loop owns this thread
            pool.submit(_demo_evaluation).result()
        page.goto(f"{self.live_server_url}/evaluation/")
        charts = page.locator("figure.chart")
        assert charts.count() >= 5
        for chart in charts.all():
            expect(chart.locator(".chart-help")).not_to_be_empty()
        shot(page, "dashboard", full_page=True)
        assert serious_accessibility_violations(page) == []
