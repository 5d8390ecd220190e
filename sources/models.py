from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ingestion.models import Document


class Source(models.Model):
    """Where documents already live (a shared folder, a git repository), synced into Faro on a schedule.

    Its documents get the source's access (all staff or its groups), through the same services as uploads
    (sources/services.py)."""

    class Kind(models.TextChoices):
        FOLDER = "folder", _("Folder")
        GIT = "git", _("Git repository")
        WEBSITE = "website", _("Website")

    class Status(models.TextChoices):
        NEVER = "never", _("never synced")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("syncing")
        OK = "ok", _("synced")
        FAILED = "failed", _("failed")

    name = models.SlugField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    location = models.CharField(
        _("location"),
        max_length=1000,
        help_text=_("Folder: an absolute path. Git: a clone URL or path. Website: the start URL."),
    )
    branch = models.CharField(_("branch"), max_length=200, blank=True, default="main")
    max_depth = models.PositiveSmallIntegerField(
        _("link depth"), default=3, help_text=_("Website: links from the start page.")
    )
    max_pages = models.PositiveIntegerField(_("page limit"), default=500, help_text=_("Website: pages per sync."))
    all_staff = models.BooleanField(_("all staff"), default=False)
    groups = models.ManyToManyField(Group, blank=True, related_name="+", verbose_name=_("groups"))
    interval_minutes = models.PositiveIntegerField(
        _("sync every (minutes)"), default=60, help_text=_("0: only by hand.")
    )
    # Status of the latest sync.
    # The admin's list and form read these labels: each one named, so each one translated.
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEVER)
    status_reason = models.TextField(_("reason"), blank=True)
    last_started_at = models.DateTimeField(_("last sync started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    next_sync_at = models.DateTimeField(_("next sync"), null=True, blank=True)
    added = models.PositiveIntegerField(pgettext_lazy("documents", "added"), default=0)
    changed = models.PositiveIntegerField(pgettext_lazy("documents", "changed"), default=0)
    removed = models.PositiveIntegerField(pgettext_lazy("documents", "removed"), default=0)
    failed = models.PositiveIntegerField(pgettext_lazy("documents", "failed"), default=0)
    failures = models.JSONField(_("failures"), default=list, blank=True)  # [key, reason] of the latest sync
    # A running sync's progress (sources/progress.py): items done, of a total known once it has listed them.
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    revision = models.CharField(_("revision"), max_length=64, blank=True)  # git: the commit last synced
    # The lock: a sync claims the source with a lease and keeps a heartbeat; a stale heartbeat (a crashed
    # worker) lets the next sync claim it and resume.
    lease = models.CharField(max_length=36, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = pgettext_lazy("synced", "source")
        verbose_name_plural = pgettext_lazy("synced", "sources")

    def __str__(self) -> str:
        return self.name


class SourceItem(models.Model):
    """One file of a source and the document it became."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=1000)  # the path inside the source
    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="source_item")
    fingerprint = models.CharField(max_length=64)  # folder: SHA-256 of the file; git: the blob id
    stat = models.CharField(max_length=64, blank=True)  # folder: size and mtime when it was hashed
    link = models.CharField(max_length=2000, blank=True)  # git: the file at the commit it was read from

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="source_item_key_unique")]

    def __str__(self) -> str:
        return f"{self.source}:{self.key}"
