"""A chat page whose session has ended, in a real browser against the real server (Daphne in a forked
process): when its socket drops and the reconnect is refused with 4401, the page sends the person to sign
in instead of reconnecting forever."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import WebSocketRoute, expect

from tests.conftest import make_user
from tests.e2e import test_chat_browser as chat_browser  # the module, so its class is not collected twice
from tests.system_packages import requires_chromium


@pytest.mark.e2e
@pytest.mark.slow
@requires_chromium
class ChatSessionEndBrowserTests(chat_browser.ChatBrowserTests):
    # The parent's own tests run in their own class; only the one below runs here.
    test_answer_streams_and_its_citation_opens_the_cited_passage = None  # type: ignore[assignment]
    test_anonymous_visitor_is_sent_to_the_login_page = None  # type: ignore[assignment]

    def test_a_socket_refused_after_the_session_ended_sends_the_person_to_sign_in(self) -> None:
        make_user("charlie", "sales")
        page = self.new_page()
        opened: list[WebSocketRoute] = []

        def through_to_the_server(socket: WebSocketRoute) -> None:
            socket.connect_to_server()  # the real server; the route only lets the test drop the connection
            opened.append(socket)

        page.route_web_socket(re.compile(r"/ws/chat/$"), through_to_the_server)
        self.log_in(page, "charlie")
        expect(page.locator("#send")).to_be_enabled()  # the websocket is open

        Session.objects.all().delete()  # signed out elsewhere, or the session expired
        opened[0].close(code=1001)  # the connection drops (a restart, the network): the page reconnects
        expect(page).to_have_url(f"{self.live_server_url}/login/?next=%2F")
        assert len(opened) == 2  # one reconnect, refused with 4401, and no more
