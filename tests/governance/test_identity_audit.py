from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from governance.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_sign_in_failed_sign_in_and_sign_out_are_audited(charlie):
    client = Client()
    assert client.post("/login/", {"username": "charlie", "password": "wrong"}).status_code == 200
    assert client.post("/login/", {"username": "charlie", "password": "pw-charlie"}).status_code == 302
    client.post("/logout/")
    types = list(AuditEvent.objects.values_list("event_type", flat=True).filter(event_type__startswith="auth.log"))
    assert types == ["auth.login_failed", "auth.login", "auth.logout"]
    login = AuditEvent.objects.get(event_type="auth.login")
    assert login.actor_username == "charlie"


def test_group_membership_changes_are_audited(charlie):
    hr = Group.objects.get_or_create(name="hr")[0]
    charlie.groups.add(hr)
    charlie.groups.remove(hr)
    changes = AuditEvent.objects.filter(event_type="auth.groups_changed", object_id=str(charlie.pk)).order_by("id")
    assert [(e.data["action"], e.data["groups"]) for e in changes][-2:] == [("add", ["hr"]), ("remove", ["hr"])]
