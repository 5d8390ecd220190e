"""The admin site for someone signed in without a role for it: a clear 403 page, not a redirect loop
between /admin/login/ and /login/."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["es", "en"])
def test_an_employee_gets_a_clear_403_page_from_the_admin(charlie, language):
    client = Client(headers={"accept-language": language})
    client.force_login(charlie)
    response = client.get("/admin/", follow=True)  # a loop raises RedirectCycleError here
    assert response.status_code == 403
    assert [url for url, _ in response.redirect_chain] == ["/admin/login/?next=/admin/"]
    page = response.content.decode()
    heading = {"es": "Sin acceso a la administración", "en": "No access to the administration"}[language]
    assert heading in page and "charlie" in page
    assert client.get("/admin/ingestion/document/", follow=True).status_code == 403


def test_the_sign_in_page_still_sends_an_employee_back_without_looping(charlie):
    client = Client()
    client.force_login(charlie)
    response = client.get("/login/?next=/admin/", follow=True)
    assert response.status_code == 403


def test_a_knowledge_admin_reaches_the_admin_and_its_login_sends_them_in(dana):
    client = Client()
    client.force_login(dana)
    assert client.get("/admin/").status_code == 200
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_an_anonymous_visitor_is_sent_to_sign_in(db):
    response = Client().get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/?next=/admin/"
    assert response.status_code == 200
