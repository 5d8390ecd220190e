"""Tone tuning in the admin: examples, the review queue of 👍 answers, snapshots (start training from
one) and runs (live progress, evaluation, promote and roll back). Every action calls one service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.gates import admin_user
from chatbot.models import Feedback, Message
from tuning.dataset import tone_example_from_answer
from tuning.models import AnswerReview, DatasetSnapshot, ToneExample, TuningRun
from tuning.services import tuning_run_create, tuning_run_promote, tuning_run_rollback
from tuning.train import TrainingParams

# The run list reloads itself this often while a run is training, so steps and loss move on screen.
PROGRESS_REFRESH_SECONDS = 5


def _report(request: HttpRequest, error: Exception) -> None:
    text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
    messages.error(request, text)


@admin.register(ToneExample)
class ToneExampleAdmin(admin.ModelAdmin[ToneExample]):
    list_display = ("question", "author", "approved", "source_message", "created_at")
    list_filter = ("approved",)
    search_fields = ("question", "answer")
    readonly_fields = ("author", "source_message", "created_at")

    def save_model(self, request: HttpRequest, obj: ToneExample, form: Any, change: bool) -> None:
        if obj.author_id is None:
            obj.author = admin_user(request)
        super().save_model(request, obj, form, change)


@admin.register(AnswerReview)
class AnswerReviewAdmin(admin.ModelAdmin[AnswerReview]):
    """👍 answers waiting to become tone examples: approve them as they are, or copy them to edit first."""

    list_display = ("answer", "user", "comment", "used", "updated_at")
    actions = ["approve_as_examples", "copy_to_edit"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AnswerReview]:
        return (
            super()
            .get_queryset(request)
            .filter(
                rating=Feedback.Rating.UP,
                message__role=Message.Role.ASSISTANT,
                message__refused=False,
                message__fallback=False,
            )
            .select_related("message", "user")
            .annotate(used=Exists(ToneExample.objects.filter(source_message=OuterRef("message"))))
        )

    @admin.display(description=_("answer"))
    def answer(self, obj: Feedback) -> str:
        return obj.message.content[:160]

    @admin.display(description=_("tone example"), boolean=True)
    def used(self, obj: Feedback) -> bool:
        return bool(getattr(obj, "used", False))

    def _make(self, request: HttpRequest, queryset: QuerySet[Feedback], *, approve: bool) -> None:
        made = 0
        for feedback in queryset:
            try:
                tone_example_from_answer(feedback_id=feedback.pk, actor=admin_user(request), approve=approve)
                made += 1
            except (ValidationError, PermissionDenied) as error:
                _report(request, error)
        if made:
            verb = "approved as tone examples" if approve else "copied to tone examples, to edit and approve"
            messages.success(request, f"{made} answer(s) {verb}")

    @admin.action(description=_("Approve as tone examples"))
    def approve_as_examples(self, request: HttpRequest, queryset: QuerySet[Feedback]) -> None:
        self._make(request, queryset, approve=True)

    @admin.action(description=_("Copy to tone examples to edit before approving"))
    def copy_to_edit(self, request: HttpRequest, queryset: QuerySet[Feedback]) -> None:
        self._make(request, queryset, approve=False)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DatasetSnapshot)
class DatasetSnapshotAdmin(admin.ModelAdmin[DatasetSnapshot]):
    list_display = ("id", "content_hash", "approved_by", "created_at")
    # Snapshots are made by ``snapshot_create`` only (pseudonymised, audited), never typed in by hand.
    readonly_fields = ("content_hash", "chat_template", "examples", "pii_report", "approved_by", "created_at")
    actions = ["train"]

    @admin.action(description=_("Train a tone adapter (queue 'training', default parameters)"))
    def train(self, request: HttpRequest, queryset: QuerySet[DatasetSnapshot]) -> None:
        for snapshot in queryset:
            try:
                run = tuning_run_create(
                    snapshot_id=snapshot.pk,
                    started_by=admin_user(request),
                    params=TrainingParams(),
                    queue=True,
                )
            except (ValidationError, PermissionDenied) as error:
                _report(request, error)
            else:
                messages.success(request, f"run {run.pk} queued on 'training'; its progress shows under tuning runs")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TuningRun)
class TuningRunAdmin(admin.ModelAdmin[TuningRun]):
    list_display = (
        "id",
        "snapshot",
        "status",
        "progress_display",
        "evaluation",
        "promoted",
        "started_by",
        "created_at",
    )
    list_filter = ("status", "promoted")
    readonly_fields = [
        "progress_display",
        "evaluation",
        *[field.name for field in TuningRun._meta.get_fields() if getattr(field, "concrete", False)],
    ]
    actions = ["promote", "rollback"]

    @admin.display(description=_("progress"))
    def progress_display(self, obj: TuningRun) -> str:
        progress = obj.progress or {}
        if not progress.get("total_steps"):
            return "—"
        return format_html(
            '<progress max="{}" value="{}"></progress> step {}/{}, loss {}',
            progress["total_steps"],
            progress["step"],
            progress["step"],
            progress["total_steps"],
            progress.get("loss"),
        )

    @admin.display(description=_("evaluation"))
    def evaluation(self, obj: TuningRun) -> str:
        m = obj.metrics or {}
        if "loss_after" not in m:
            return "—"
        grounding = m.get("grounding")
        if not isinstance(grounding, dict):
            grounding = {}
        regressions = grounding.get("regressions")
        return format_html(
            "loss {} → {}; tone {} → {}; grounding {}{}",
            m.get("loss_before"),
            m.get("loss_after"),
            m.get("tone_base"),
            m.get("tone_adapter"),
            "not evaluated" if regressions is None else ("worse: " + ", ".join(regressions) if regressions else "kept"),
            "; REGRESSED, cannot be promoted" if m.get("regressed") else "",
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        running = TuningRun.objects.filter(status__in=[TuningRun.Status.PENDING, TuningRun.Status.RUNNING]).exists()
        context = {**(extra_context or {}), "refresh_seconds": PROGRESS_REFRESH_SECONDS if running else 0}
        return super().changelist_view(request, extra_context=context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        running = TuningRun.objects.filter(
            pk=object_id, status__in=[TuningRun.Status.PENDING, TuningRun.Status.RUNNING]
        ).exists()
        context = {**(extra_context or {}), "refresh_seconds": PROGRESS_REFRESH_SECONDS if running else 0}
        return super().change_view(request, object_id, form_url, extra_context=context)

    @admin.action(description=_("Promote (serve this adapter)"))
    def promote(self, request: HttpRequest, queryset: QuerySet[TuningRun]) -> None:
        if queryset.count() != 1:
            messages.error(request, "choose exactly one run to promote")
            return
        try:
            run = tuning_run_promote(run_id=queryset.get().pk, actor=admin_user(request))
        except (ValidationError, PermissionDenied) as error:
            _report(request, error)
        else:
            messages.success(request, f"run {run.pk} promoted")

    @admin.action(description=_("Roll back the promoted run (restore the one before it)"))
    def rollback(self, request: HttpRequest, queryset: QuerySet[TuningRun]) -> None:
        try:
            restored = tuning_run_rollback(actor=admin_user(request))
        except (ValidationError, PermissionDenied) as error:
            _report(request, error)
        else:
            serving = f"run {restored.pk}" if restored else "the base model"
            messages.success(request, f"rolled back; now serving {serving}")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
