"""Configuration changes made through the admin site are in the audit trail, in the admin's transaction."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import User
from governance.audit import audit_verify
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_creating_and_deleting_a_group_in_the_admin_is_audited():
    admin = User.objects.create_superuser(username="root", password="pw-root")
    client = Client()
    client.force_login(admin)
    assert client.post("/admin/auth/group/add/", {"name": "legal"}).status_code == 302
    group = Group.objects.get(name="legal")
    change = AuditEvent.objects.get(event_type="admin.change", data__action="add")
    assert change.actor_username == "root"
    assert (change.object_type, change.object_id, change.data["object"]) == ("auth.group", str(group.pk), "legal")
    assert AuditEvent.objects.filter(event_type="auth.group_created", data__name="legal").exists()

    client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    assert not Group.objects.filter(name="legal").exists()
    deleted = AuditEvent.objects.get(event_type="admin.change", data__action="delete")
    assert deleted.object_id == str(group.pk) and deleted.actor_username == "root"
    assert AuditEvent.objects.filter(event_type="auth.group_deleted", object_id=str(group.pk)).exists()
    assert list(audit_verify()) == []
