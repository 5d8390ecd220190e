"""The sources admin: knowledge admins only; changing a source's groups there re-stamps its documents at
once; "Sync now" queues a sync."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import User
from sources.models import Source
from sources.tasks import sync_source
from tests.sources.conftest import found, sync_and_index


@pytest.fixture
def source(db: None, tmp_path: Path, search_index: object) -> Source:
    (tmp_path / "normas.md").write_text("# Normas\n\nEl código de vestimenta es libre jaspelandia.\n")
    source = Source.objects.create(name="normas", kind=Source.Kind.FOLDER, location=str(tmp_path))
    source.groups.set([Group.objects.get_or_create(name="hr")[0]])
    sync_and_index(source.pk)
    return source


def form(source: Source, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": source.name,
        "kind": source.kind,
        "location": source.location,
        "branch": source.branch,
        "interval_minutes": source.interval_minutes,
        "max_depth": source.max_depth,
        "max_pages": source.max_pages,
        "groups": [group.pk for group in source.groups.all()],
    }
    return data | changes


def test_changing_the_groups_in_the_admin_restamps_the_documents(
    source: Source, dana: User, alice: User, charlie: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(dana)
    sales = Group.objects.get_or_create(name="sales")[0]
    assert found(charlie, "jaspelandia") == set()

    with django_capture_on_commit_callbacks(execute=True):  # the index follows the admin's commit
        response = client.post(f"/admin/sources/source/{source.pk}/change/", form(source, groups=[sales.pk]))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(found(charlie, "jaspelandia")) == 1
    assert found(alice, "jaspelandia") == set()


def test_sync_now_queues_a_sync(source: Source, dana: User, django_capture_on_commit_callbacks: object) -> None:
    client = Client()
    client.force_login(dana)

    with django_capture_on_commit_callbacks() as callbacks:  # type: ignore[operator]
        response = client.post("/admin/sources/source/", {"action": "sync_now", "_selected_action": [source.pk]})

    assert response.status_code == 302
    queued = [c for c in callbacks if getattr(c, "func", None) == sync_source.delay]
    assert [c.args for c in queued] == [(source.pk,)]
    source.refresh_from_db()
    assert source.status == Source.Status.QUEUED


def test_employees_and_auditors_cannot_manage_sources(source: Source, alice: User, auditor: User) -> None:
    for user, status in ((alice, 302), (auditor, 403)):  # an employee is sent away from the admin
        client = Client()
        client.force_login(user)
        assert client.get("/admin/sources/source/").status_code == status
