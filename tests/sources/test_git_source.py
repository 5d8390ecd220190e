"""A git source against a real repository the test creates and commits to: add, edit, rename, delete; each
document links back to its file at the commit it was read from; symlinks refused; an unchanged branch
re-syncs without touching a document."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from accounts.models import User
from governance.models import AuditEvent
from ingestion.models import Document
from sources.models import Source, SourceItem
from sources.services import source_sync
from tests.sources.conftest import found, index, sync_and_index


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "handbook"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "onboarding.md").write_text("# Acogida\n\nEl primer día recibes la tarjeta lapislazulia.\n")
    (repo / "equipos").mkdir()
    (repo / "equipos" / "portatiles.md").write_text("# Portátiles\n\nSe renuevan cada cuatro años ambarlandia.\n")
    (repo / "README.rst").write_text("not a supported format for the handbook")
    (repo / "atajo.md").symlink_to("onboarding.md")
    commit(repo, "first")
    return repo


@pytest.fixture
def source(db: None, repo: Path, search_index: object) -> Source:
    return Source.objects.create(name="manual", kind=Source.Kind.GIT, location=str(repo), branch="main", all_staff=True)


def item(source: Source, key: str) -> SourceItem:
    return SourceItem.objects.get(source=source, key=key)


def test_a_branch_syncs_add_edit_rename_delete(source: Source, repo: Path, charlie: User) -> None:
    first = git(repo, "rev-parse", "HEAD")
    result = sync_and_index(source.pk)

    assert sorted(result.added) == ["equipos/portatiles.md", "onboarding.md"]
    assert result.failed == [("atajo.md", "symlink refused")]
    onboarding = item(source, "onboarding.md")
    assert onboarding.link == f"{repo}@{first}:onboarding.md"
    assert onboarding.fingerprint == git(repo, "rev-parse", "HEAD:onboarding.md")  # the blob id
    assert found(charlie, "lapislazulia") == {onboarding.document_id}  # all staff
    source.refresh_from_db()
    assert source.revision == first

    # Unchanged branch: nothing happens to any document.
    again = source_sync(source_id=source.pk, queue=False)
    assert (again.added, again.changed, again.removed, again.unchanged) == ([], [], [], 2)

    (repo / "onboarding.md").write_text("# Acogida\n\nEl primer día recibes la tarjeta y el portátil turquesina.\n")
    git(repo, "mv", "equipos/portatiles.md", "equipos/ordenadores.md")
    (repo / "vacaciones.md").write_text("# Vacaciones\n\nVeintitrés días al año granatelia.\n")
    second = commit(repo, "edit, rename, add")
    result = source_sync(source_id=source.pk, queue=False)
    index(result.document_ids)

    assert result.changed == ["onboarding.md"]
    assert result.moved == [("equipos/portatiles.md", "equipos/ordenadores.md")]
    assert result.added == ["vacaciones.md"]
    assert item(source, "onboarding.md").link == f"{repo}@{second}:onboarding.md"
    assert Document.objects.get(pk=onboarding.document_id).version == 2
    assert found(charlie, "turquesina") == {onboarding.document_id}
    assert found(charlie, "lapislazulia") == set()
    assert found(charlie, "ambarlandia") == {item(source, "equipos/ordenadores.md").document_id}
    added = AuditEvent.objects.filter(event_type="source.document_added").latest("id")
    assert added.data == {"source": "manual", "key": "vacaciones.md", "link": f"{repo}@{second}:vacaciones.md"}

    git(repo, "rm", "-q", "vacaciones.md")
    commit(repo, "delete")
    result = source_sync(source_id=source.pk, queue=False)

    assert result.removed == ["vacaciones.md"]
    assert found(charlie, "granatelia") == set()  # withdrawn at once


def test_a_missing_branch_fails_the_sync(source: Source) -> None:
    Source.objects.filter(pk=source.pk).update(branch="no-such-branch")

    with pytest.raises(Exception, match="git fetch"):
        source_sync(source_id=source.pk, queue=False)

    source.refresh_from_db()
    assert source.status == Source.Status.FAILED
