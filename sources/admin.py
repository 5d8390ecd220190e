from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.principals import principals_for_document
from sources.models import Source
from sources.progress import source_counts_text, source_status_text
from sources.services import source_access_changed, sources_sync_queue


def _principals(source: Source) -> frozenset[str]:
    return principals_for_document(
        all_staff=source.all_staff, group_ids=source.groups.values_list("pk", flat=True), owner_id=None
    )


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
    list_display = (
        "name",
        "kind",
        "status_display",
        "counts_display",
        "last_finished_at",
        "next_sync_at",
    )
    # No filter column: a company has a handful of sources, and the list needs the width for its counts.
    search_fields = ("name", "location")
    filter_horizontal = ("groups",)
    readonly_fields = (
        "status",
        "status_reason",
        "last_started_at",
        "last_finished_at",
        "next_sync_at",
        "added",
        "changed",
        "removed",
        "failed",
        "failures",
        "revision",
    )
    fields = (
        "name",
        "kind",
        "location",
        "branch",
        "max_depth",
        "max_pages",
        "all_staff",
        "groups",
        "interval_minutes",
        *readonly_fields,
    )
    actions = ["sync_now"]

    class Media:
        # The status and counts follow a running sync live, as the document list follows uploads.
        js = ("ingestion/progress.js", "sources/progress.js")  # the second uses the first's FaroProgress
        css = {"all": ("sources/admin.css",)}

    @admin.display(description=_("documents"))
    def counts_display(self, obj: Source) -> str:
        return source_counts_text(vars(obj))

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj: Source) -> str:
        return format_html(
            '<span class="faro-source" data-source="{}" data-status="{}">{}</span>',
            obj.pk,
            obj.status,
            source_status_text(obj.status, obj.progress_done, obj.progress_total),
        )

    def save_model(self, request: HttpRequest, obj: Source, form: forms.ModelForm[Source], change: bool) -> None:
        # Compared after the groups are saved (save_related): a change of access re-stamps every document.
        obj._principals_before = _principals(Source.objects.get(pk=obj.pk)) if change else None  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: forms.ModelForm[Source], formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        source: Source = form.instance
        before = getattr(source, "_principals_before", None)
        if before is not None and _principals(source) != before:
            actor = request.user if isinstance(request.user, User) else None
            groups = source.groups.all()
            count = source_access_changed(source=source, actor=actor, all_staff=source.all_staff, groups=groups)
            self.message_user(request, _("Access of %(n)d documents updated.") % {"n": count})

    @admin.action(description=_("Sync now"), permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        queued = sources_sync_queue(source_ids=queryset.values_list("pk", flat=True))
        message = ngettext("Sync queued for %(n)d source.", "Sync queued for %(n)d sources.", queued)
        self.message_user(request, message % {"n": queued}, messages.SUCCESS)
