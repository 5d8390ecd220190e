"""Tone tuning records: curated examples, pseudonymised dataset snapshots, and LoRA runs (the registry)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chatbot.models import Feedback


class ToneExample(models.Model):
    """A question with the answer a knowledge admin would like the assistant to give, in the house style."""

    question = models.TextField(_("question"))
    answer = models.TextField(_("ideal answer"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved = models.BooleanField(_("approved"), default=False)
    # The chat answer it was made from in the review queue (👍 answers), if any: one example per answer.
    source_message = models.OneToOneField(
        "chatbot.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("tone example")
        verbose_name_plural = _("tone examples")

    def __str__(self) -> str:
        return self.question[:80]


class AnswerReview(Feedback):
    """The review queue: chat answers rated helpful (👍), seen from the tuning side (no table of its own).
    Its admin name says so in words: without an emoji font the sidebar drew 👍 as an empty box."""

    class Meta:
        proxy = True
        verbose_name = _("answer to review")
        verbose_name_plural = _("answers to review (rated helpful)")


class DatasetSnapshot(models.Model):
    """A frozen, pseudonymised training set. Training reads only snapshots, never live examples."""

    content_hash = models.CharField(_("content hash"), max_length=64, db_index=True)
    chat_template = models.TextField(_("chat template"))
    # [{"question": ..., "answer": ...}], already pseudonymised: raw personal data never reaches a snapshot.
    examples = models.JSONField(_("examples"), default=list)
    # {"examples": n, "replaced": {"EMAIL": 2, "PERSON": 1, ...}, "examples_with_pii": k}
    pii_report = models.JSONField(_("PII report"), default=dict)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("dataset snapshot")
        verbose_name_plural = _("dataset snapshots")

    def __str__(self) -> str:
        return f"snapshot {self.pk} ({len(self.examples)} examples, {self.content_hash[:12]})"


class TuningRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="runs")
    base_model = models.CharField(_("base model"), max_length=500)
    params = models.JSONField(_("parameters"), default=dict)
    seed = models.IntegerField(_("seed"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # Live progress while running: {"step": 3, "total_steps": 12, "loss": 2.1}
    progress = models.JSONField(_("progress"), default=dict, blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    artifact_path = models.CharField(_("artifact path"), max_length=500, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    promoted = models.BooleanField(_("promoted"), default=False)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    promoted_at = models.DateTimeField(null=True, blank=True)
    # The run that was promoted before this one, restored by a rollback.
    replaced = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("tuning run")
        verbose_name_plural = _("tuning runs")
        constraints = [
            models.UniqueConstraint(fields=["promoted"], condition=models.Q(promoted=True), name="one_promoted_run")
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"
