"""Single sign-on against a real OpenID provider (Node's certified oidc-provider, started on loopback):
just-in-time accounts, groups and roles from the claims at every sign-in, disabled users, logout at the
provider, and the local password login as an administrators' break-glass."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import Group
from django.test import Client

from accounts.gates import roles_for_user
from accounts.models import User
from accounts.principals import principals_for_user
from accounts.roles import Role
from ingestion.models import Document
from tests.accounts.conftest import sso_sign_in
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def hr_only_document() -> Document:
    document = Document.objects.create(
        title="Nóminas 2026", file="originals/nominas.md", all_staff=False, status=Document.Status.INDEXED
    )
    document.groups.set([Group.objects.get_or_create(name="hr")[0]])
    return document


def test_first_sign_in_creates_the_user_with_the_mapped_groups(sso):
    sso.set_account("alice", groups=["hr-staff", "unmapped-team"], name="Alice Martín", email="alice@lumen.example")
    client = Client()

    response = sso_sign_in(client, sso, "alice")

    assert response.status_code == 302 and response["Location"] == "/"
    alice = User.objects.get(sso_subject="alice")
    assert (alice.username, alice.email, alice.first_name) == ("alice", "alice@lumen.example", "Alice Martín")
    assert alice.sso_issuer == sso.issuer
    assert not alice.has_usable_password()
    assert set(alice.groups.values_list("name", flat=True)) == {"hr"}  # unmapped groups grant nothing
    assert roles_for_user(alice) == {Role.EMPLOYEE}
    assert not alice.is_staff and not alice.is_superuser
    chat = client.get("/")
    assert chat.status_code == 200 and chat.context["user"] == alice


def test_groups_follow_the_provider_at_every_sign_in(sso):
    document = hr_only_document()
    sso.set_account("alice", groups=["hr-staff"])
    client = Client()
    sso_sign_in(client, sso, "alice")
    assert client.get(f"/documents/{document.pk}/").status_code == 200

    sso.set_account("alice", groups=["sales-team"])  # moved to Sales at the provider
    client.post("/logout/")
    sso_sign_in(client, sso, "alice")

    alice = User.objects.get(sso_subject="alice")
    assert set(alice.groups.values_list("name", flat=True)) == {"sales"}
    assert f"group-id:{Group.objects.get(name='hr').pk}" not in principals_for_user(alice)
    assert client.get(f"/documents/{document.pk}/").status_code == 404
    assert User.objects.filter(sso_subject="alice").count() == 1  # the same person, updated


def test_roles_follow_the_role_mapping(sso):
    sso.set_account("dana", groups=["faro-knowledge-admins"])
    client = Client()
    sso_sign_in(client, sso, "dana")
    dana = User.objects.get(sso_subject="dana")
    assert roles_for_user(dana) == {Role.EMPLOYEE, Role.KNOWLEDGE_ADMIN} and dana.is_staff
    assert client.get("/admin/ingestion/document/add/").status_code == 200

    sso.set_account("dana", groups=[])
    client.post("/logout/")
    sso_sign_in(client, sso, "dana")
    dana.refresh_from_db()
    assert roles_for_user(dana) == {Role.EMPLOYEE} and not dana.is_staff
    assert client.get("/admin/ingestion/document/add/").status_code == 302  # to the login page


def test_administrator_and_auditor_roles_come_from_the_provider(sso):
    sso.set_account("root", groups=["faro-administrators"])
    sso.set_account("audrey", groups=["faro-auditors"])
    sso_sign_in(Client(), sso, "root")
    sso_sign_in(Client(), sso, "audrey")
    root, audrey = User.objects.get(sso_subject="root"), User.objects.get(sso_subject="audrey")
    assert root.is_superuser and root.is_staff and Role.ADMINISTRATOR in roles_for_user(root)
    assert roles_for_user(audrey) == {Role.EMPLOYEE, Role.AUDITOR} and not audrey.is_superuser


def test_role_groups_cannot_be_reached_through_group_names(sso, settings):
    settings.OIDC_GROUPS_PASSTHROUGH = True
    sso.set_account("mallory", groups=["knowledge-admins", "auditors", "legal"])
    sso_sign_in(Client(), sso, "mallory")
    mallory = User.objects.get(sso_subject="mallory")
    assert set(mallory.groups.values_list("name", flat=True)) == {"legal"}
    assert roles_for_user(mallory) == {Role.EMPLOYEE}


def test_without_a_role_mapping_roles_given_in_faro_are_kept(sso, settings):
    settings.OIDC_ROLE_MAP = {}
    sso.set_account("dana", groups=["hr-staff"])
    client = Client()
    sso_sign_in(client, sso, "dana")
    dana = User.objects.get(sso_subject="dana")
    dana.groups.add(Group.objects.get(name="knowledge-admins"))
    client.post("/logout/")
    sso_sign_in(client, sso, "dana")
    assert roles_for_user(dana) == {Role.EMPLOYEE, Role.KNOWLEDGE_ADMIN}
    assert set(dana.groups.values_list("name", flat=True)) == {"hr", "knowledge-admins"}


def test_a_disabled_user_cannot_sign_in(sso):
    sso.set_account("erin", groups=["finance-team"])
    sso_sign_in(Client(), sso, "erin")
    User.objects.filter(sso_subject="erin").update(is_active=False)

    client = Client()
    response = sso_sign_in(client, sso, "erin")

    assert response.status_code == 302 and response["Location"] == "/login/?sso=failed"
    assert not User.objects.get(sso_subject="erin").is_active  # the provider cannot switch them back on
    assert client.get("/").status_code == 302
    assert 'id="sso-error"' in client.get("/login/?sso=failed").content.decode()


def test_disabling_a_user_ends_their_session(sso):
    sso.set_account("erin", groups=["finance-team"])
    client = Client()
    sso_sign_in(client, sso, "erin")
    assert client.get("/").status_code == 200
    User.objects.filter(sso_subject="erin").update(is_active=False)
    assert client.get("/")["Location"] == "/login/?next=/"


def test_a_local_account_is_never_taken_over_by_a_namesake(sso):
    local = make_user("alice", "finance")
    sso.set_account("alice", groups=["hr-staff"])
    sso_sign_in(Client(), sso, "alice")
    newcomer = User.objects.get(sso_subject="alice")
    assert newcomer.pk != local.pk and newcomer.username.startswith("alice-")
    assert set(local.groups.values_list("name", flat=True)) == {"finance"} and local.has_usable_password()


def test_the_sign_in_returns_to_the_page_asked_for(sso):
    sso.set_account("alice", groups=["hr-staff"])
    document = hr_only_document()
    response = sso_sign_in(Client(), sso, "alice", next_url=f"/documents/{document.pk}/")
    assert response["Location"] == f"/documents/{document.pk}/"
    outsider = sso_sign_in(Client(), sso, "alice", next_url="https://elsewhere.example/")
    assert outsider["Location"] == "/"


def test_logout_also_ends_the_session_at_the_provider(sso):
    sso.set_account("alice", groups=["hr-staff"])
    client = Client()
    sso_sign_in(client, sso, "alice")

    response = client.post("/logout/")

    assert client.get("/").status_code == 302  # signed out of Faro
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{sso.issuer}/session/end"
    query = parse_qs(url.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert query["client_id"] == ["faro"] and query["id_token_hint"][0].count(".") == 2
    # The provider accepts the request (and, having no session of its own in this client, confirms at once).
    confirmation = requests.get(response["Location"], timeout=10)
    assert confirmation.status_code == 200 and "session/end/confirm" in confirmation.text


def test_a_forged_or_replayed_callback_signs_nobody_in(sso):
    sso.set_account("alice", groups=["hr-staff"])
    client = Client()
    start = client.get("/oidc/authenticate/")
    callback = urlsplit(sso.sign_in(start["Location"], "alice"))
    forged = client.get(f"{callback.path}?code=made-up&state={parse_qs(callback.query)['state'][0]}")
    assert forged["Location"] == "/login/?sso=failed"
    replayed = client.get(f"{callback.path}?{callback.query}")  # the state was used up by the forged try
    assert replayed["Location"] == "/login/?sso=failed"
    assert client.get("/").status_code == 302
    assert not User.objects.filter(sso_subject="alice").exists()


def test_an_unreachable_provider_is_explained_on_the_login_page(sso, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens on the discard port
    response = Client().get("/oidc/authenticate/")
    assert response["Location"] == "/login/?sso=unavailable"


# --- the local password login -------------------------------------------------------------------------


def test_with_sso_on_only_administrators_may_use_a_password(sso):
    make_user("charlie", "sales")
    User.objects.create_superuser("admin", password="pw-admin")
    page = Client().get("/login/").content.decode()
    assert 'id="sso-login"' in page and 'id="break-glass"' in page

    charlie = Client().post("/login/", {"username": "charlie", "password": "pw-charlie"})
    assert charlie.status_code == 200 and 'role="alert"' in charlie.content.decode()
    admin = Client().post("/login/", {"username": "admin", "password": "pw-admin"})
    assert admin.status_code == 302


def test_switching_local_login_off_refuses_passwords_and_ends_their_sessions(sso, settings):
    User.objects.create_superuser("admin", password="pw-admin")
    client = Client()
    assert client.post("/login/", {"username": "admin", "password": "pw-admin"}).status_code == 302

    settings.LOCAL_LOGIN_ENABLED = False

    assert client.get("/").status_code == 302  # the break-glass session is over
    assert Client().post("/login/", {"username": "admin", "password": "pw-admin"}).status_code == 403
    page = Client().get("/login/").content.decode()
    assert 'id="sso-login"' in page and 'id="id_password"' not in page


def test_without_sso_everyone_signs_in_with_a_password_as_before(db):
    make_user("charlie", "sales")
    page = Client().get("/login/").content.decode()
    assert 'id="sso-login"' not in page and 'id="id_password"' in page
    assert Client().get("/oidc/authenticate/").status_code == 404
    assert Client().get("/oidc/callback/?code=x&state=y").status_code == 404
    assert Client().post("/login/", {"username": "charlie", "password": "pw-charlie"})["Location"] == "/"


def test_the_admin_signs_in_through_the_one_login_page(db):
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/admin/"
