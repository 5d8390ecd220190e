"""The sources admin in a real browser: a knowledge admin creates a folder source, clicks "Sync now", and
reads the source move from queued through syncing n/m to synced with its counts without reloading; the
synced document is then in the document list. In Spanish (the default) and in English.

The server runs in a forked process with no worker, so this process plays the worker: it runs the sync the
button queued (the page follows it as it follows uploads, by the saved state it asks for). Screenshots go
under ``FARO_E2E_SCREENSHOTS`` (default ``<tmp>/faro-e2e``): look at them."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from sources.models import Source
from tests.conftest import make_user
from tests.e2e import test_chat_browser as chat_browser  # the module, so its class is not collected twice
from tests.e2e.test_what_people_see import DESKTOP, OVERFLOW_JS, shot
from tests.sources.conftest import sync_and_index

CHROMIUM = chat_browser.CHROMIUM
NOTE = "# Normas de vestimenta\n\nEl código de vestimenta es libre salvo con clientes cuarzolandia.\n"


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
)
class SourcesBrowserTests(chat_browser.ChatBrowserTests):
    # The parent's own tests run in their own class; only the ones below run here.
    test_answer_streams_and_its_citation_opens_the_cited_passage = None  # type: ignore[assignment]
    test_anonymous_visitor_is_sent_to_the_login_page = None  # type: ignore[assignment]

    def open_admin(self, username: str, *, locale: str = "es-ES") -> Page:
        context = self.browser.new_context(locale=locale, viewport=DESKTOP)  # type: ignore[arg-type]
        self.addCleanup(context.close)
        page = context.new_page()
        self.log_in(page, username)
        return page

    def row(self, page: Page, source: Source) -> Locator:
        return page.locator("#result_list tbody tr").filter(has=page.locator(f"[data-source='{source.pk}']"))

    def test_a_knowledge_admin_syncs_a_folder_and_watches_it(self) -> None:
        make_user("dana", "knowledge-admins", is_staff=True)
        folder = Path(tempfile.mkdtemp(prefix="faro-e2e-share-"))
        (folder / "vestimenta.md").write_text(NOTE, encoding="utf-8")
        page = self.open_admin("dana")

        # Creates the source in the admin, every label in Spanish.
        page.goto(f"{self.live_server_url}/admin/sources/source/add/")
        expect(page.locator("label[for=id_location]")).to_have_text(re.compile("Ubicación", re.IGNORECASE))
        page.fill("#id_name", "normas-compartidas")
        page.select_option("#id_kind", "folder")
        page.fill("#id_location", str(folder))
        page.check("#id_all_staff")
        page.fill("#id_interval_minutes", "0")
        shot(page, "sources-add", full_page=True)
        page.click("input[name=_save]")
        expect(page).to_have_url(f"{self.live_server_url}/admin/sources/source/")
        source = Source.objects.get(name="normas-compartidas")
        row = self.row(page, source)
        expect(row.locator(".faro-source")).to_have_text("nunca sincronizada")

        # "Sync now" from the actions: queued at once.
        row.locator("input.action-select").check()
        page.select_option("select[name=action]", "sync_now")
        page.click("button[name=index]")
        expect(page.locator(".messagelist")).to_contain_text("Sincronización en cola para 1 fuente.")
        row = self.row(page, source)
        expect(row.locator(".faro-source")).to_have_text("en cola")

        # The worker (this process) lists the folder: the page follows without a reload.
        Source.objects.filter(pk=source.pk).update(status=Source.Status.RUNNING, progress_done=1, progress_total=3)
        expect(row.locator(".faro-source")).to_have_text("sincronizando 1/3", timeout=15_000)
        shot(page, "sources-syncing")
        Source.objects.filter(pk=source.pk).update(status=Source.Status.QUEUED)  # as it was: the sync runs now
        sync_and_index(source.pk)
        expect(row.locator(".faro-source")).to_have_text("sincronizada", timeout=15_000)
        expect(row.locator(".field-counts_display")).to_have_text(
            "añadidos: 1 · cambiados: 0 · retirados: 0 · fallidos: 0"
        )
        expect(row.locator(".field-last_finished_at")).not_to_have_text("-")
        headers = [h.strip() for h in page.locator("#result_list thead th").all_inner_texts()[1:]]
        assert headers == ["NOMBRE", "TIPO", "ESTADO", "DOCUMENTOS", "ÚLTIMA SINCRONIZACIÓN", "PRÓXIMA SINCRONIZACIÓN"]
        expect(page.locator(".breadcrumbs")).to_contain_text("Fuentes sincronizadas")
        expect(page.locator(".object-tools")).to_contain_text(re.compile("añadir fuente", re.IGNORECASE))
        # Every column in view at 1280 px, none scrolled out of the list.
        assert page.evaluate(OVERFLOW_JS) <= 0
        assert page.locator("#changelist .results").evaluate("(el) => el.scrollWidth - el.clientWidth") <= 0
        expect(page.locator("#result_list thead th").last).to_be_in_viewport(ratio=1)
        shot(page, "sources-synced")

        # The synced document is in the document list, indexed.
        page.goto(f"{self.live_server_url}/admin/ingestion/document/")
        synced = page.locator("#result_list tbody tr").filter(has_text="Normas de vestimenta")
        expect(synced).to_have_count(1)
        expect(synced.locator(".faro-progress")).to_have_text("indexado")
        shot(page, "sources-document-list")

        # The same list in English.
        english = self.open_admin("dana", locale="en-US")
        english.goto(f"{self.live_server_url}/admin/sources/source/")
        expect(self.row(english, source).locator(".faro-source")).to_have_text("synced")
        headers = [h.strip() for h in english.locator("#result_list thead th").all_inner_texts()[1:]]
        assert headers == ["NAME", "KIND", "STATUS", "DOCUMENTS", "LAST SYNC", "NEXT SYNC"], headers
        expect(self.row(english, source).locator(".field-counts_display")).to_have_text(
            "added: 1 · changed: 0 · removed: 0 · failed: 0"
        )
        shot(english, "sources-synced-en")
