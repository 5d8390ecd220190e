"""Renaming or deleting a group: documents follow the group, never its name.

Principals name a group by its key (``accounts.principals``), so a renamed group's members keep its
documents, and a group created later with the old name (by an admin, or by SSO at sign-in) gets none of
them; a deleted group's documents are re-stamped when the deletion commits (``ingestion.signals``), each
with its ``document.access_change`` event. Run on SQLite by default and on PostgreSQL in the production
pass (``DATABASE_URL``), whose sequences, like SQLite's ``AUTOINCREMENT``, never give a key out twice.
"""

from __future__ import annotations

import importlib
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from accounts.principals import principals_for_user
from governance.models import AuditEvent
from ingestion.embed import get_embedder
from ingestion.models import Document
from ingestion.search import get_search_backend
from tests.conftest import BENEFITS_MD, index_document

pytestmark = pytest.mark.django_db

QUESTION = "¿Cuánto cuesta el seguro médico premium?"


def found_with(principals: frozenset[str], document: Document) -> bool:
    vector = get_embedder().embed([QUESTION])[0]
    hits = get_search_backend().search(QUESTION, vector, principals=principals, k=20)
    return document.pk in {hit.document_id for hit in hits}


def found(user: User, document: Document) -> bool:
    user.refresh_from_db()
    return found_with(principals_for_user(user), document)


def page(user: User, document: Document) -> int:
    client = Client()
    client.force_login(user)
    return client.get(f"/documents/{document.pk}/").status_code


@pytest.fixture
def benefits(search_index: object, dana: User, alice: User) -> Document:
    """HR only (alice is in HR), owned by dana."""
    return index_document(BENEFITS_MD, title="Beneficios sociales y retribución 2026", owner=dana, groups=("hr",))


def test_a_renamed_groups_members_keep_its_documents(benefits: Document, alice: User, charlie: User) -> None:
    hr = Group.objects.get(name="hr")
    hr.name = "people"
    hr.save()

    assert found(alice, benefits) and page(alice, benefits) == 200
    assert not found(charlie, benefits) and page(charlie, benefits) == 404
    renamed = AuditEvent.objects.get(event_type="auth.group_renamed")
    assert renamed.object_id == str(hr.pk) and renamed.data == {"from": "hr", "to": "people"}


def test_a_new_group_with_a_renamed_groups_old_name_gets_none_of_its_documents(
    benefits: Document, alice: User, charlie: User
) -> None:
    hr = Group.objects.get(name="hr")
    hr.name = "people"
    hr.save()
    newcomer = Group.objects.create(name="hr")  # as an admin, or SSO at sign-in, would create it
    charlie.groups.add(newcomer)

    assert not found(charlie, benefits)
    assert page(charlie, benefits) == 404
    assert found(alice, benefits)  # still in the renamed group


def test_a_new_group_with_a_deleted_groups_name_gets_none_of_its_documents(
    benefits: Document, alice: User, charlie: User, django_capture_on_commit_callbacks: Any
) -> None:
    old = Group.objects.get(name="hr")
    old_principal = f"group-id:{old.pk}"
    with django_capture_on_commit_callbacks(execute=True):  # the re-stamp follows the deletion's commit
        old.delete()
    newcomer = Group.objects.create(name="hr")
    charlie.groups.add(newcomer)
    alice.groups.add(newcomer)

    assert not found(charlie, benefits) and page(charlie, benefits) == 404
    assert not found(alice, benefits) and page(alice, benefits) == 404
    # The index holds what the database says: the deleted group's principal left every chunk.
    assert not found_with(frozenset({old_principal}), benefits)
    assert found_with(principals_for_user(benefits.owner), benefits)  # type: ignore[arg-type]
    change = AuditEvent.objects.filter(event_type="document.access_change", object_id=str(benefits.pk)).get()
    assert change.data == {"principals": [f"user:{benefits.owner_id}"], "groups": []}
    assert AuditEvent.objects.filter(event_type="auth.group_deleted", data__name="hr").exists()


def test_renaming_a_group_in_the_admin_is_audited_with_who_did_it(
    benefits: Document, alice: User, dana: User, admin_user: User
) -> None:
    hr = Group.objects.get(name="hr")
    client = Client()
    client.force_login(admin_user)
    response = client.post(f"/admin/auth/group/{hr.pk}/change/", {"name": "people", "permissions": []})
    assert response.status_code == 302, response.content.decode()[:2000]

    assert found(alice, benefits)
    assert AuditEvent.objects.filter(event_type="auth.group_renamed", object_id=str(hr.pk)).exists()
    logged = AuditEvent.objects.get(event_type="admin.change", object_type="auth.group")
    assert logged.actor_id == admin_user.pk


def test_restamp_replaces_stamps_of_an_earlier_format(benefits: Document, alice: User, charlie: User) -> None:
    """An index stamped by an earlier release (``group:<name>``), or restored from an old snapshot."""
    legacy = frozenset({"group:hr", f"user:{benefits.owner_id}"})
    get_search_backend().set_principals(benefits.pk, legacy)
    assert not found(alice, benefits)  # fails closed: a name-based stamp matches nobody now

    out = StringIO()
    call_command("restamp", stdout=out)

    assert "re-stamped 1 documents" in out.getvalue()
    assert found(alice, benefits)
    assert not found_with(frozenset({"group:hr"}), benefits)
    assert not found(charlie, benefits)


def test_the_migration_restamps_by_key_and_back_by_name(benefits: Document, alice: User) -> None:
    migration = importlib.import_module("ingestion.migrations.0004_principals_by_group_id")

    migration.by_group_name(apps, None)  # back to the earlier release's stamps
    assert found_with(frozenset({"group:hr"}), benefits)
    assert not found(alice, benefits)

    migration.by_group_id(apps, None)
    assert found(alice, benefits)
    assert not found_with(frozenset({"group:hr"}), benefits)
