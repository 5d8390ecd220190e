from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _


class Document(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PROCESSING = "processing", _("processing")
        INDEXED = "indexed", _("indexed")
        FAILED = "failed", _("failed")

    class Stage(models.TextChoices):
        QUEUED = "queued", _("queued")
        PARSING = "parsing", _("parsing")
        OCR = "ocr", _("OCR")
        CHUNKING = "chunking", _("chunking")
        EMBEDDING = "embedding", _("embedding")
        INDEXING = "indexing", _("indexing")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    title = models.CharField(_("title"), max_length=300)
    file = models.FileField(_("file"), upload_to="originals/%Y/%m/", max_length=300)
    original_name = models.CharField(_("original file name"), max_length=300, blank=True)
    source = models.CharField(
        _("source"), max_length=1000, blank=True, db_index=True, help_text=_("Where a bulk load read it from.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
        verbose_name=_("owner"),
    )
    all_staff = models.BooleanField(
        _("visible to all staff"), default=True, help_text=_("Untick and choose groups to restrict it.")
    )
    groups = models.ManyToManyField(
        Group, blank=True, related_name="documents", verbose_name=_("groups that may see it")
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    # The document's state: status, reason, stage, percent and its detail, lease and heartbeat change together,
    # only through the named functions in ingestion/pipeline.py (documents_mark_queued, _claimed, _failed,
    # _indexed; documents_renew_lease, document_revoke_lease); while a run holds the document,
    # ingestion.progress.progress_report moves its stage and percent and renews the heartbeat.
    # tests/test_architecture.py checks that nothing else writes them.
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    status_reason = models.TextField(_("reason"), blank=True)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    progress_detail = models.CharField(max_length=200, blank=True)
    # The lease of the worker running the pipeline: a stale heartbeat means that worker died.
    lease = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    language = models.CharField(_("language"), max_length=8, blank=True)
    checksum = models.CharField(_("checksum"), max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    embedding_model = models.CharField(_("embedding model"), max_length=300, blank=True)
    chunk_count = models.PositiveIntegerField(_("passages"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    indexed_at = models.DateTimeField(_("indexed"), null=True, blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title


class Chunk(models.Model):
    """The indexed text of a document, kept in the database so citations can be shown and checked."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    chunk_id = models.CharField(max_length=64, unique=True)
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    section = models.CharField(max_length=500, blank=True)
    page_start = models.PositiveIntegerField(null=True, blank=True)
    page_end = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["document_id", "ordinal"]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal}"
