"""Shared personas and fixtures: alice and bob in HR, charlie in Sales, dana the knowledge admin, an auditor."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from asgiref.sync import SyncToAsync
from django.contrib.auth.models import Group
from django.db import connections
from pytest_django.fixtures import Settings

from accounts.models import User
from ingestion.models import Document

ROOT = Path(__file__).resolve().parent.parent
DEMO_CORPUS = ROOT / "demo" / "corpus"
TEST_FILES = Path(__file__).resolve().parent / "files"
VACATION_PDF = DEMO_CORPUS / "politica-vacaciones.pdf"
BENEFITS_MD = DEMO_CORPUS / "beneficios-sociales.md"  # HR only
TELEWORK_DOCX = DEMO_CORPUS / "politica-teletrabajo.docx"


def _fresh_thread_sensitive_executor() -> None:
    # Browser tests fork their live server from this process. Once a test here has run thread-sensitive
    # code from async code (database_sync_to_async), asgiref's one-thread executor has its thread; a child
    # does not inherit the thread but the executor still counts it, so every database call of the child's
    # websockets would wait forever. A fresh executor starts its thread on first use.
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


os.register_at_fork(after_in_child=_fresh_thread_sensitive_executor)


@pytest.fixture(autouse=True)
def _close_thread_sensitive_connections() -> Iterator[None]:
    """Close the connection a test's thread-sensitive async database calls left open. Django's async ORM
    (``aget``, ``asave``) never closes it, and Channels' ``database_sync_to_async`` does not either while
    its test communicator is driving a consumer; both run on asgiref's one shared thread, whose connection
    then still held PostgreSQL's test database when pytest-django dropped it."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=60)


@pytest.fixture(autouse=True)
def _own_audit_checkpoints(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test anchors its own audit trail (governance/checkpoints.py): a checkpoint of one test's events
    would not match another test's database."""
    settings.AUDIT_CHECKPOINT_FILE = tmp_path_factory.mktemp("audit") / "checkpoints.jsonl"


def make_user(username: str, *groups: str, is_staff: bool = False) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=is_staff)
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
    return user


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice", "hr")


@pytest.fixture
def bob(db: None) -> User:
    return make_user("bob", "hr")


@pytest.fixture
def charlie(db: None) -> User:
    return make_user("charlie", "sales")


@pytest.fixture
def dana(db: None) -> User:
    return make_user("dana", "knowledge-admins", is_staff=True)


@pytest.fixture
def auditor(db: None) -> User:
    return make_user("audrey", "auditors", is_staff=True)


@pytest.fixture
def search_index() -> Iterator[object]:
    """The configured search backend, empty at the start of the test and emptied again after it."""
    from ingestion.search import get_search_backend

    backend = get_search_backend()
    backend.clear()
    yield backend
    backend.clear()


def index_document(path: Path, *, title: str, owner: User | None = None, groups: tuple[str, ...] = ()) -> Document:
    """Register and index a file synchronously through the real pipeline."""
    from ingestion.pipeline import document_ingest
    from ingestion.services import document_register

    group_objects = [Group.objects.get_or_create(name=name)[0] for name in groups]
    document = document_register(
        path=path, title=title, owner=owner, all_staff=not groups, groups=group_objects, queue=False
    )
    return document_ingest(document_id=document.pk)


@pytest.fixture
def policies(db: None, search_index: object, dana: User) -> dict[str, Document]:
    """The vacation policy (all staff, PDF) and the benefits document (HR only), indexed."""
    return {
        "vacation": index_document(VACATION_PDF, title="Política de vacaciones y permisos", owner=dana),
        "benefits": index_document(
            BENEFITS_MD, title="Beneficios sociales y retribución 2026", owner=dana, groups=("hr",)
        ),
    }


@pytest.fixture
def worker(transactional_db: None, search_index: object) -> Iterator[object]:
    """A real Celery worker in a thread of the test process, consuming from the configured broker."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from ingestion import tasks  # noqa: F401  (registers the task)

    app.control.purge()  # tasks left on a shared broker by an earlier run are not ours
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30) as running:
        yield running


def wait_until_settled(documents: list[Document], timeout: float = 120) -> list[Document]:
    deadline = time.monotonic() + timeout
    settled = {Document.Status.INDEXED, Document.Status.FAILED}
    current = documents
    while time.monotonic() < deadline:
        current = [Document.objects.get(pk=d.pk) for d in documents]
        if all(d.status in settled for d in current):
            return current
        time.sleep(0.2)
    raise AssertionError(f"not settled: {[(d.title, d.status) for d in current]}")
