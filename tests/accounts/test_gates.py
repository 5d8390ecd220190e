"""The gates at every entry point: views, the admin, the websocket and management commands."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory

from accounts.gates import (
    admin_user,
    chat_required,
    chat_user,
    command_actor,
    has_role,
    may_chat,
    may_use_admin,
    may_use_admin_for,
    require_role,
    role_required,
    roles_for_user,
    session_user,
)
from accounts.models import User
from accounts.roles import Role
from config.asgi import application
from tests.conftest import make_user


@pytest.mark.django_db
def test_each_persona_holds_its_roles(alice, charlie, dana, auditor):
    admin = User.objects.create_superuser("admin", password="pw-admin")
    assert roles_for_user(alice) == roles_for_user(charlie) == {Role.EMPLOYEE}
    assert roles_for_user(dana) == {Role.EMPLOYEE, Role.KNOWLEDGE_ADMIN}
    assert roles_for_user(auditor) == {Role.EMPLOYEE, Role.AUDITOR}
    assert roles_for_user(admin) == {Role.EMPLOYEE, Role.ADMINISTRATOR}
    assert all(has_role(admin, role) for role in Role)  # an administrator may act in every role
    assert not has_role(dana, Role.AUDITOR) and not has_role(auditor, Role.KNOWLEDGE_ADMIN)


@pytest.mark.django_db
def test_a_disabled_user_holds_no_role_and_may_do_nothing(dana):
    dana.is_active = False
    assert roles_for_user(dana) == frozenset()
    assert not may_chat(dana) and not may_use_admin(dana)
    with pytest.raises(PermissionDenied):
        require_role(dana, Role.EMPLOYEE)


@pytest.mark.django_db
def test_the_role_decorator_sends_visitors_to_login_and_refuses_others(charlie, auditor):
    view = role_required(Role.AUDITOR)(lambda request: HttpResponse("ok"))
    request = RequestFactory().get("/audit/")
    request.user = charlie
    with pytest.raises(PermissionDenied):
        view(request)
    request.user = auditor
    assert view(request).content == b"ok"
    request.user = AnonymousUser()
    assert view(request)["Location"] == "/login/?next=/audit/"


@pytest.mark.django_db
def test_the_chat_pages_send_anyone_the_chat_gate_refuses_to_sign_in(charlie):
    view = chat_required(lambda request: HttpResponse("ok"))
    request = RequestFactory().get("/documents/7/")
    request.user = AnonymousUser()
    assert view(request)["Location"] == "/login/?next=/documents/7/"
    charlie.is_active = False  # (a backend never signs in a disabled account; the gate refuses it anyway)
    request.user = charlie
    assert view(request).status_code == 302
    charlie.is_active = True
    assert view(request).content == b"ok"


@pytest.mark.django_db
def test_admin_code_acts_for_the_signed_in_person_and_never_for_a_visitor(dana):
    request = RequestFactory().post("/admin/ingestion/document/7/delete/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        admin_user(request)
    request.user = dana
    assert admin_user(request) == dana


@pytest.mark.django_db
def test_a_session_signs_in_its_person_until_they_are_signed_out_disabled_or_change_password(charlie, alice):
    session = _session_cookie(charlie)
    assert session_user(session, charlie.pk) == chat_user(session, charlie.pk) == charlie
    assert session_user(session, alice.pk) is None  # the session signs in charlie, not whoever asks
    assert session_user(None, charlie.pk) is None and session_user(session, None) is None
    assert session_user("no-such-session", charlie.pk) is None

    User.objects.filter(pk=charlie.pk).update(is_active=False)
    assert chat_user(session, charlie.pk) is None
    User.objects.filter(pk=charlie.pk).update(is_active=True)
    assert chat_user(session, charlie.pk) == charlie

    charlie.set_password("a new password")
    charlie.save()
    assert session_user(session, charlie.pk) is None


@pytest.mark.django_db
def test_may_use_admin_for_asks_the_admin_gate_and_the_permission(charlie, dana, auditor):
    view, change = "ingestion.view_document", "ingestion.change_document"
    assert may_use_admin_for(dana, view) and may_use_admin_for(dana, change)
    assert may_use_admin_for(auditor, view) and not may_use_admin_for(auditor, change)
    assert not may_use_admin_for(charlie, "ingestion.view_document")
    assert not may_use_admin_for(AnonymousUser(), "ingestion.view_document")
    stale = make_user("stale", is_staff=True)  # a permission without a role opens nothing
    stale.user_permissions.add(Permission.objects.get(codename="view_document"))
    assert stale.has_perm("ingestion.view_document") and not may_use_admin_for(stale, "ingestion.view_document")


# --- the admin ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_is_for_knowledge_admins_auditors_and_administrators(alice, dana, auditor):
    def status(user: User, url: str) -> int:
        client = Client()
        client.force_login(user)
        return client.get(url).status_code

    assert status(alice, "/admin/") == 302  # an employee is sent to the login page
    stale = make_user("stale", is_staff=True)  # is_staff alone, without a role, opens nothing
    assert status(stale, "/admin/") == 302

    assert status(dana, "/admin/ingestion/document/add/") == 200
    assert status(dana, "/admin/chatbot/conversation/") == 403
    assert status(dana, "/admin/accounts/user/") == 403

    assert status(auditor, "/admin/chatbot/conversation/") == 200
    assert status(auditor, "/admin/ingestion/document/") == 200
    assert status(auditor, "/admin/ingestion/document/add/") == 403
    assert status(auditor, "/admin/accounts/user/") == 403

    admin = User.objects.create_superuser("admin", password="pw-admin")
    assert status(admin, "/admin/accounts/user/") == 200


# --- the websocket ------------------------------------------------------------------------------------


def _session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def _socket(user: User) -> WebsocketCommunicator:
    cookie = await database_sync_to_async(_session_cookie)(user)
    headers = [
        (b"host", b"localhost"),
        (b"origin", b"http://localhost"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
    return WebsocketCommunicator(application, "/ws/chat/", headers=headers)


@pytest.mark.django_db(transaction=True)
async def test_the_websocket_asks_again_before_every_question(charlie):
    communicator = await _socket(charlie)
    connected, _ = await communicator.connect()
    assert connected

    await User.objects.filter(pk=charlie.pk).aupdate(is_active=False)  # disabled mid-conversation
    await communicator.send_json_to({"type": "ask", "conversation": None, "question": "¿Cuántos días?"})

    assert await communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4401}
    await communicator.wait()


@pytest.mark.django_db(transaction=True)
async def test_the_websocket_refuses_a_disabled_user(charlie):
    communicator = await _socket(charlie)
    await User.objects.filter(pk=charlie.pk).aupdate(is_active=False)
    connected, _ = await communicator.connect()
    assert connected  # accepted, so that the browser learns the close code (not a failed handshake)
    assert await communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4401}


# --- management commands ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_an_administrator_may_change_roles_from_the_command_line(charlie, dana):
    User.objects.create_superuser("admin", password="pw-admin")
    with pytest.raises(CommandError, match="not allowed"):
        call_command("user_roles", "charlie", "--actor", "dana", "--grant", "knowledge-admin")
    with pytest.raises(CommandError, match="not allowed"):
        call_command("user_roles", "charlie", "--actor", "nobody", "--grant", "knowledge-admin")
    assert roles_for_user(charlie) == {Role.EMPLOYEE}

    call_command("user_roles", "charlie", "--actor", "admin", "--grant", "auditor")
    charlie.refresh_from_db()
    assert roles_for_user(charlie) == {Role.EMPLOYEE, Role.AUDITOR} and charlie.is_staff

    call_command("user_roles", "charlie", "--actor", "admin", "--revoke", "auditor")
    charlie.refresh_from_db()
    assert roles_for_user(charlie) == {Role.EMPLOYEE} and not charlie.is_staff


@pytest.mark.django_db
def test_command_actor_must_exist_hold_the_role_and_be_active(dana):
    assert command_actor("dana", Role.KNOWLEDGE_ADMIN) == dana
    with pytest.raises(PermissionDenied):
        command_actor("dana", Role.ADMINISTRATOR)
    dana.is_active = False
    dana.save()
    with pytest.raises(PermissionDenied):
        command_actor("dana", Role.KNOWLEDGE_ADMIN)


def test_the_top_bar_offers_the_audit_log_and_the_evaluation_to_auditors_only(client, charlie, auditor):
    from django.urls import reverse

    links = (reverse("audit_log"), reverse("evaluation_dashboard"))
    client.force_login(charlie)
    page = client.get(reverse("chat")).content.decode()
    assert not any(f'href="{link}"' in page for link in links)
    client.force_login(auditor)
    page = client.get(reverse("chat")).content.decode()
    assert all(f'href="{link}"' in page for link in links)
