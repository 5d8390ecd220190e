"""Single sign-on in a real browser against a real OpenID provider.

The test suite starts Node's certified ``oidc-provider`` on loopback (``tests/oidc``), points Faro's
``OIDC_*`` settings at it before Daphne forks its server process, indexes an HR-only document, and drives
Debian's Chromium: "Sign in with SSO", the provider's login page, back to the chat with the provider's
groups, an answer citing what those groups may see, then logout at Faro and at the provider. The server
answers extractively (quoted passages) so the test does not wait for the generator.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.test import override_settings
from playwright.sync_api import Browser, Page, Playwright, Route, expect, sync_playwright

from accounts.models import User
from accounts.sso import provider_metadata_clear
from ingestion.search import get_search_backend
from tests.conftest import BENEFITS_MD, index_document
from tests.oidc.provider import OidcTestProvider, node_missing_reason, running_provider
from tests.system_packages import CHROMIUM, requires_chromium

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BENEFITS_TITLE = "Beneficios sociales y retribución 2026"
QUESTION = "¿Cuáles son las bandas salariales de 2026?"
ANSWER_TIMEOUT_MS = 60_000  # the server process loads the embedder on its first question
LOOPBACK = {"127.0.0.1", "localhost"}


@pytest.mark.e2e
@pytest.mark.slow
@requires_chromium
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (the test starts oidc-provider)")
class SsoBrowserTests(ChannelsLiveServerTestCase):
    provider: ClassVar[OidcTestProvider]
    playwright: ClassVar[Playwright]
    browser: ClassVar[Browser]

    @classmethod
    def setUpClass(cls) -> None:
        node_missing_reason()  # raises when `npm ci` has not installed the provider
        stack = ExitStack()
        try:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="faro-oidc-")))
            cls.provider = stack.enter_context(running_provider(work_dir))
            # Enabled before the server process forks, so it runs with these settings too.
            stack.enter_context(override_settings(**cls.provider.settings(LLM_BACKEND="extractive")))
            provider_metadata_clear()
            super().setUpClass()
        except BaseException:
            stack.close()
            raise
        cls.addClassCleanup(stack.close)
        try:
            cls._start_browser()
        except BaseException:
            super().tearDownClass()
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
        self.provider.reset()
        backend = get_search_backend()
        backend.clear()
        self.addCleanup(backend.clear)  # the database is flushed after each test; the index is not
        self.benefits = index_document(BENEFITS_MD, title=BENEFITS_TITLE, groups=("hr",))

    def new_page(self) -> Page:
        context = self.browser.new_context(locale="es-ES")
        self.addCleanup(context.close)
        # Loopback only: the provider's development pages link a web font that must not be fetched.
        context.route("**/*", _loopback_only)
        return context.new_page()

    def sign_in_with_sso(self, page: Page, username: str) -> None:
        page.goto(f"{self.live_server_url}/")
        expect(page).to_have_url(f"{self.live_server_url}/login/?next=/")
        page.click("#sso-login")
        page.wait_for_url(f"{self.provider.issuer}/interaction/**")
        page.fill("input[name=login]", username)
        page.fill("input[name=password]", "any password: the development login page accepts it")
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{self.live_server_url}/")

    def ask(self, page: Page, question: str) -> None:
        expect(page.locator("#send")).to_be_enabled()  # enabled once the websocket is open
        page.fill("#question", question)
        page.press("#question", "Enter")
        expect(page.locator("article.message.assistant")).to_have_attribute(
            "data-state", "done", timeout=ANSWER_TIMEOUT_MS
        )

    def test_sign_in_with_sso_lands_in_the_chat_with_the_providers_groups(self) -> None:
        self.provider.set_account("alice", groups=["hr-staff"], name="Alice Martín")
        page = self.new_page()

        self.sign_in_with_sso(page, "alice")

        expect(page.locator(".topbar .who")).to_have_text("Alice Martín")
        alice = User.objects.get(sso_subject="alice")
        assert set(alice.groups.values_list("name", flat=True)) == {"hr"}
        self.ask(page, QUESTION)  # the HR group lets her see, and be cited, the HR-only document
        sources = page.locator("article.message.assistant aside.sources a.source-link")
        expect(sources.first).to_have_text(BENEFITS_TITLE)
        assert urlsplit(sources.first.get_attribute("href") or "").path == f"/documents/{self.benefits.pk}/"

        # Logout ends the session at Faro and, after the provider's confirmation, at the provider.
        page.click(".topbar form[action='/logout/'] button")
        page.wait_for_url(f"{self.provider.issuer}/session/end**")
        page.click("button[name=logout]")
        expect(page).to_have_url(f"{self.live_server_url}/login/")
        page.goto(f"{self.live_server_url}/")
        expect(page).to_have_url(f"{self.live_server_url}/login/?next=/")
        page.click("#sso-login")
        page.wait_for_url(f"{self.provider.issuer}/interaction/**")
        expect(page.locator("input[name=login]")).to_be_visible()  # asked to sign in again

    def test_a_sales_user_signed_in_with_sso_is_never_shown_the_hr_document(self) -> None:
        self.provider.set_account("charlie", groups=["sales-team"], name="Charlie")
        page = self.new_page()

        self.sign_in_with_sso(page, "charlie")

        assert set(User.objects.get(sso_subject="charlie").groups.values_list("name", flat=True)) == {"sales"}
        self.ask(page, QUESTION)
        answer = page.locator("article.message.assistant")
        expect(answer.locator("a.source-link")).to_have_count(0)
        expect(answer).not_to_contain_text("EUR")
        page.goto(f"{self.live_server_url}/documents/{self.benefits.pk}/")
        expect(page.locator("h1")).not_to_have_text(BENEFITS_TITLE)


def _loopback_only(route: Route) -> None:
    if urlsplit(route.request.url).hostname in LOOPBACK:
        route.continue_()
    else:
        route.abort()


def _restore_environ(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
