"""Bulk work in this process: load files from paths (``manage.py ingest``) and rebuild the index from the
stored originals (``manage.py reindex``), through the same services and pipeline as an upload."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q

from accounts.models import User
from ingestion.embed import bulk_embedder, get_embedder
from ingestion.models import Document
from ingestion.parsers import is_supported
from ingestion.pipeline import documents_ingest, documents_mark_queued
from ingestion.search import FixedDimensionBackend, get_search_backend
from ingestion.services import document_new_version, document_register, file_checksum


@dataclass
class LoadSummary:
    indexed: list[Document] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)


def paths_collect(paths: Iterable[Path], *, recursive: bool) -> Iterator[Path]:
    """Supported files among ``paths`` (folders are read one level deep, or all the way when recursive)."""
    for path in paths:
        if path.is_dir():
            children = path.rglob("*") if recursive else path.glob("*")
            for child in sorted(children):
                if child.is_file() and not child.name.startswith(".") and is_supported(child):
                    yield child
        elif path.is_file():
            yield path


def documents_load_paths(
    *,
    paths: Sequence[Path],
    owner: User | None,
    group_names: Sequence[str] = (),
    tags: Sequence[str] = (),
    on_file: Callable[[str], None] | None = None,
) -> LoadSummary:
    """Index files in this process: new files become documents, changed files (same source path) new
    versions, files whose content is already indexed are skipped. Missing groups are created."""
    summary = LoadSummary()
    embedder = bulk_embedder(documents=len(paths))  # a child encoder loads its model while files register
    groups = [Group.objects.get_or_create(name=name)[0] for name in group_names]
    queued: list[int] = []
    for start in range(0, len(paths), settings.INGESTION_BATCH_DOCUMENTS):
        # Registered a batch per transaction (one commit, not one per file), then indexed.
        with transaction.atomic():
            batch = _register_paths(
                paths[start : start + settings.INGESTION_BATCH_DOCUMENTS], summary, groups, tags, owner, on_file
            )
        queued.extend(batch)

    def settled(document: Document) -> None:
        if document.status == Document.Status.INDEXED:
            summary.indexed.append(document)
        else:
            summary.failed.append((document.source or document.original_name, document.status_reason))
        if on_file is not None:
            on_file(document.source or document.original_name)

    documents_ingest(document_ids=queued, errors="fail", on_document=settled, embedder=embedder)
    return summary


def _register_paths(
    paths: Sequence[Path],
    summary: LoadSummary,
    groups: list[Group],
    tags: Sequence[str],
    owner: User | None,
    on_file: Callable[[str], None] | None,
) -> list[int]:
    queued: list[int] = []
    for path in paths:
        source = str(path.resolve())
        if not is_supported(path):
            summary.failed.append((source, f"Unsupported file type {path.suffix or '(none)'}."))
            if on_file is not None:
                on_file(source)
            continue
        checksum = file_checksum(path)
        existing = Document.objects.filter(source=source).order_by("pk").first()
        indexed = Document.objects.filter(checksum=checksum, status=Document.Status.INDEXED)
        if (existing is None and indexed.exists()) or (
            existing is not None and indexed.filter(pk=existing.pk).exists()
        ):
            summary.unchanged.append(path)
            if on_file is not None:
                on_file(source)
            continue
        if existing is not None:
            document_new_version(document=existing, path=path, queue=False)
            documents_mark_queued(Document.objects.filter(pk=existing.pk))
            queued.append(existing.pk)
        else:
            document = document_register(
                path=path,
                title=path.stem,
                owner=owner,
                all_staff=not groups,
                groups=groups,
                tags=tags,
                source=source,
                queue=False,
            )
            queued.append(document.pk)
    return queued


ReindexAction = Literal["replace", "rebuild"]


def reindex_action(*, index_dimension: int | None, model_dimension: int) -> ReindexAction:
    """``rebuild`` when the index is fixed to another vector width than the configured model's (an
    Elasticsearch mapping made for the previous model: the new vectors cannot be written there), else
    ``replace`` (each document replaced in place, as the embedded index always can)."""
    if index_dimension is not None and index_dimension != model_dimension:
        return "rebuild"
    return "replace"


def documents_reindex(
    *, everything: bool, model_changed: bool = False, on_document: Callable[[Document], None] | None = None
) -> tuple[list[int], list[Document]]:
    """Rebuild the index from the stored originals: every document (``everything``, after the index was
    cleared), or those not indexed with the current embedding model (after a model change) or failed;
    ``model_changed``: only indexed documents whose vectors another embedding model made (what ``make run``
    and docker-compose's ``reindex`` service do before serving, so that a question's vector is never
    compared with another model's).

    An index fixed to another vector width (Elasticsearch after a model of another dimension) is first
    replaced, through ``rebuild``, by an empty one made for the model's width, behind the same alias in one
    step; every indexed document is then embedded into it (the old index could take none of them)."""
    backend = get_search_backend()
    embedder = get_embedder()
    current = embedder.name[-300:]
    indexed = Q(status=Document.Status.INDEXED)
    if everything:
        backend.clear()
        targets = Document.objects.all()
    elif (
        isinstance(backend, FixedDimensionBackend)
        and reindex_action(index_dimension=backend.vector_dimension(), model_dimension=embedder.dimension) == "rebuild"
    ):
        backend.rebuild(())
        targets = Document.objects.filter(indexed if model_changed else Q())
    else:
        stale = ~Q(embedding_model=current) & indexed if model_changed else ~Q(embedding_model=current) | ~indexed
        targets = Document.objects.filter(stale)
    ids = list(targets.order_by("pk").values_list("pk", flat=True))
    documents_mark_queued(Document.objects.filter(pk__in=ids))
    bulk = bulk_embedder(documents=len(ids))
    return ids, documents_ingest(document_ids=ids, errors="fail", on_document=on_document, embedder=bulk)
