"""The demo company: groups, personas and the shipped corpus (``python manage.py load_demo``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User
from accounts.roles import AUDITORS, KNOWLEDGE_ADMINS, roles_ensure
from ingestion.models import Document
from ingestion.pipeline import document_ingest
from ingestion.services import document_register, file_checksum

DEMO_DIR = settings.BASE_DIR / "demo"
DEMO_PASSWORD = "faro-demo"


@dataclass(frozen=True)
class Persona:
    username: str
    first_name: str
    department: str
    groups: tuple[str, ...]
    is_staff: bool = False
    is_superuser: bool = False


PERSONAS = (
    Persona("alice", "Alice", "Personas (RR. HH.)", ("hr",)),
    Persona("bob", "Bob", "Personas (RR. HH.)", ("hr",)),
    Persona("charlie", "Charlie", "Ventas", ("sales",)),
    Persona("erin", "Erin", "Finanzas", ("finance",)),
    Persona("dana", "Dana", "Gestión del conocimiento", (KNOWLEDGE_ADMINS,), is_staff=True),
    Persona("audrey", "Audrey", "Auditoría interna", (AUDITORS,), is_staff=True),
    Persona("admin", "Admin", "Sistemas", (), is_staff=True, is_superuser=True),
)


@dataclass(frozen=True)
class DemoSummary:
    documents_indexed: int
    documents_unchanged: int
    documents_failed: int


@transaction.atomic
def demo_users_ensure(password: str = DEMO_PASSWORD) -> int:
    """Create the demo groups and personas if missing (existing ones are left as they are)."""
    roles_ensure()
    created = 0
    for persona in PERSONAS:
        user, was_created = User.objects.get_or_create(
            username=persona.username,
            defaults={
                "first_name": persona.first_name,
                "email": f"{persona.username}@lumen.example",
                "department": persona.department,
                "is_staff": persona.is_staff,
                "is_superuser": persona.is_superuser,
            },
        )
        if was_created:
            user.set_password(password)
            user.save(update_fields=["password"])
            user.groups.set([Group.objects.get_or_create(name=name)[0] for name in persona.groups])
            created += 1
    return created


def demo_corpus_load(*, directory: Path = DEMO_DIR) -> DemoSummary:
    """Register and index every document of the manifest; a file already indexed unchanged is skipped."""
    owner = User.objects.filter(username="dana").first()
    indexed = unchanged = failed = 0
    for entry in json.loads((directory / "manifest.json").read_text(encoding="utf-8")):
        path = directory / "corpus" / entry["file"]
        existing = Document.objects.filter(title=entry["title"]).first()
        if existing and existing.status == Document.Status.INDEXED and existing.checksum == file_checksum(path):
            unchanged += 1
            continue
        if existing:
            existing.delete()
        groups = [Group.objects.get_or_create(name=name)[0] for name in entry["groups"]]
        document = document_register(
            path=path,
            title=entry["title"],
            owner=owner,
            all_staff=not groups,
            groups=groups,
            tags=entry.get("tags", []),
            effective_date=date.fromisoformat(entry["effective_date"]) if entry.get("effective_date") else None,
            queue=False,
        )
        if document_ingest(document_id=document.pk).status == Document.Status.INDEXED:
            indexed += 1
        else:
            failed += 1
    return DemoSummary(documents_indexed=indexed, documents_unchanged=unchanged, documents_failed=failed)
