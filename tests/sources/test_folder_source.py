"""A folder source against a real temporary folder: first sync, a no-change re-sync, an edit, a rename, a
deletion (withdrawn from search at once), symlinks refused, access from the source's groups re-stamped at
once, audit events naming the source, the lock, and ``manage.py sync_source``."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from governance.models import AuditEvent
from ingestion.models import Document
from sources.models import Source, SourceItem
from sources.services import SourceBusy, _claim, source_access_changed, source_sync, sources_due
from tests.sources.conftest import found, index, sync_and_index


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "share"
    write(root / "vacaciones.md", "# Vacaciones\n\nCada empleado tiene veintitrés días de vacaciones zafirolandia.\n")
    write(root / "gastos.txt", "Los gastos de viaje se reembolsan con factura en quince días cuarzomonte.\n")
    write(root / "rrhh" / "bajas.md", "# Bajas\n\nLa baja médica se comunica el primer día obsidianapolis.\n")
    write(root / "foto.bin", "not a document")
    write(tmp_path / "outside.md", "# Fuera\n\nSecreto de fuera del recurso turmalinaberg.\n")
    os.symlink(tmp_path / "outside.md", root / "enlace.md")
    os.symlink(tmp_path, root / "carpeta-enlazada")
    return root


@pytest.fixture
def source(db: None, folder: Path, search_index: object) -> Source:
    source = Source.objects.create(name="compartida", kind=Source.Kind.FOLDER, location=str(folder))
    source.groups.set([Group.objects.get_or_create(name="hr")[0]])
    return source


def document(source: Source, key: str) -> Document:
    return SourceItem.objects.get(source=source, key=key).document


def test_first_sync_registers_each_file_with_the_sources_access_and_refuses_symlinks(
    source: Source, alice: User, charlie: User
) -> None:
    result = sync_and_index(source.pk)

    assert sorted(result.added) == ["gastos.txt", "rrhh/bajas.md", "vacaciones.md"]
    assert sorted(result.failed) == [("carpeta-enlazada", "symlink refused"), ("enlace.md", "symlink refused")]
    vacation = document(source, "vacaciones.md")
    assert vacation.status == Document.Status.INDEXED
    assert vacation.source == "sources/compartida/vacaciones.md"
    assert found(alice, "zafirolandia") == {vacation.pk}
    assert found(charlie, "zafirolandia") == set()  # HR only, like the source
    assert found(alice, "turmalinaberg") == set()  # the symlink's target was never read
    assert AuditEvent.objects.filter(event_type="document.upload").count() == 3  # as any upload
    added = AuditEvent.objects.filter(event_type="source.document_added")
    assert sorted((event.data["source"], event.data["key"]) for event in added) == [
        ("compartida", "gastos.txt"),
        ("compartida", "rrhh/bajas.md"),
        ("compartida", "vacaciones.md"),
    ]
    assert added.get(data__key="vacaciones.md").object_id == str(vacation.pk)
    source.refresh_from_db()
    assert (source.status, source.added, source.failed, source.lease) == (Source.Status.FAILED, 3, 2, "")
    assert AuditEvent.objects.get(event_type="source.synced").data["source"] == "compartida"


def test_a_resync_without_changes_changes_nothing(source: Source) -> None:
    sync_and_index(source.pk)
    events = AuditEvent.objects.count()

    result = source_sync(source_id=source.pk, queue=False)

    assert (result.added, result.changed, result.removed, result.moved, result.unchanged) == ([], [], [], [], 3)
    assert AuditEvent.objects.count() == events + 1  # source.synced only
    assert Document.objects.filter(version__gt=1).count() == 0


def test_a_touched_file_with_the_same_content_is_hashed_again_and_not_changed(source: Source, folder: Path) -> None:
    sync_and_index(source.pk)
    before = SourceItem.objects.get(source=source, key="gastos.txt").stat
    os.utime(folder / "gastos.txt", (1_900_000_000, 1_900_000_000))

    result = source_sync(source_id=source.pk, queue=False)

    assert (result.changed, result.unchanged) == ([], 3)
    after = SourceItem.objects.get(source=source, key="gastos.txt").stat
    assert after != before and after.endswith(":1900000000000000000")


def test_edit_rename_and_delete(source: Source, folder: Path, alice: User) -> None:
    sync_and_index(source.pk)
    vacation, expenses, leave = (document(source, key) for key in ("vacaciones.md", "gastos.txt", "rrhh/bajas.md"))
    write(folder / "vacaciones.md", "# Vacaciones\n\nAhora son veinticinco días de vacaciones esmeraldania.\n")
    (folder / "viajes").mkdir()
    (folder / "gastos.txt").rename(folder / "viajes" / "gastos-de-viaje.txt")
    (folder / "rrhh" / "bajas.md").unlink()

    result = source_sync(source_id=source.pk, queue=False)

    assert result.changed == ["vacaciones.md"]
    assert result.moved == [("gastos.txt", "viajes/gastos-de-viaje.txt")]
    assert result.removed == ["rrhh/bajas.md"]
    assert result.added == []
    # The deletion is withdrawn from search at once, before any worker runs.
    assert found(alice, "obsidianapolis") == set()
    assert not Document.objects.filter(pk=leave.pk).exists()
    assert AuditEvent.objects.get(event_type="document.delete").object_id == str(leave.pk)
    removed = AuditEvent.objects.get(event_type="source.document_removed")
    assert (removed.object_id, removed.data["source"], removed.data["key"]) == (
        str(leave.pk),
        "compartida",
        "rrhh/bajas.md",
    )
    moved = AuditEvent.objects.get(event_type="source.document_moved")
    assert (moved.data["previous_key"], moved.data["key"]) == ("gastos.txt", "viajes/gastos-de-viaje.txt")
    # The moved file is the same document, not indexed again.
    assert document(source, "viajes/gastos-de-viaje.txt").pk == expenses.pk
    assert found(alice, "cuarzomonte") == {expenses.pk}
    # The edit is a new version of the same document, served once indexed.
    vacation.refresh_from_db()
    assert vacation.version == 2
    assert AuditEvent.objects.get(event_type="document.new_version").object_id == str(vacation.pk)
    assert AuditEvent.objects.get(event_type="source.document_changed").data["key"] == "vacaciones.md"
    index(result.document_ids)
    assert found(alice, "esmeraldania") == {vacation.pk}
    assert found(alice, "zafirolandia") == set()


def test_a_change_of_the_sources_groups_restamps_its_documents_at_once(
    source: Source, alice: User, charlie: User, dana: User, django_capture_on_commit_callbacks: Any
) -> None:
    sync_and_index(source.pk)
    vacation = document(source, "vacaciones.md")
    sales = Group.objects.get_or_create(name="sales")[0]

    with django_capture_on_commit_callbacks(execute=True):  # the index follows the commit
        changed = source_access_changed(source=source, actor=dana, all_staff=False, groups=[sales])

    assert changed == 3
    assert found(charlie, "zafirolandia") == {vacation.pk}
    assert found(alice, "zafirolandia") == set()
    event = AuditEvent.objects.filter(event_type="document.access_change", object_id=str(vacation.pk)).get()
    assert event.data == {"principals": [f"group-id:{sales.pk}"], "groups": ["sales"]}
    assert event.actor_id == dana.pk
    named = AuditEvent.objects.get(event_type="source.access_changed")
    assert named.data == {"source": "compartida", "all_staff": False, "groups": ["sales"], "documents": 3}


def test_a_source_never_syncs_twice_at_once_and_a_crashed_sync_is_resumed(source: Source) -> None:
    assert _claim(source.pk) is not None  # a sync in progress

    with pytest.raises(SourceBusy):
        source_sync(source_id=source.pk, queue=False)
    assert sources_due() == []

    Source.objects.filter(pk=source.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))  # it crashed
    assert sources_due() == [source.pk]
    assert len(source_sync(source_id=source.pk, queue=False).added) == 3


def test_a_missing_folder_fails_the_sync_and_says_why(source: Source) -> None:
    Source.objects.filter(pk=source.pk).update(location="/nonexistent/faro-share")

    with pytest.raises(Exception, match="is not a folder"):
        source_sync(source_id=source.pk, queue=False)

    source.refresh_from_db()
    assert source.status == Source.Status.FAILED and "is not a folder" in source.status_reason
    assert source.lease == ""


def test_the_command_syncs_by_name_and_all(source: Source) -> None:
    out = io.StringIO()
    call_command("sync_source", "compartida", stdout=out)
    assert "compartida: added 3, changed 0, moved 0, removed 0, unchanged 0, failed 2" in out.getvalue()
    out = io.StringIO()
    call_command("sync_source", "--all", stdout=out)
    assert "compartida: added 0, changed 0, moved 0, removed 0, unchanged 3, failed 2" in out.getvalue()


def test_the_task_of_a_source_being_synced_does_nothing(source: Source) -> None:
    from sources.tasks import sync_source

    assert _claim(source.pk) is not None

    assert sync_source.run(source.pk) == "busy"
    assert SourceItem.objects.count() == 0
