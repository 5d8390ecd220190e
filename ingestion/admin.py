from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ingestion.models import Document
from ingestion.parse import SUPPORTED_EXTENSIONS
from ingestion.services import document_delete, document_queue_ingestion, file_checksum


class DocumentForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ["title", "file", "all_staff", "groups"]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        extension = Path(upload.name).suffix.lower()
        if extension not in SUPPORTED_EXTENSIONS:
            raise forms.ValidationError(_("Unsupported file type %(ext)s.") % {"ext": extension or "?"})
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than the configured limit."))
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all_staff") and not data.get("groups"):
            raise forms.ValidationError(
                _("Choose the groups that may see the document, or make it visible to all staff.")
            )
        return data


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    form = DocumentForm
    list_display = ("title", "status", "status_reason", "language", "chunk_count", "all_staff", "updated_at")
    list_filter = ("status", "all_staff", "groups", "language")
    search_fields = ("title", "original_name")
    readonly_fields = ("status", "status_reason", "language", "checksum", "chunk_count", "owner", "indexed_at")
    filter_horizontal = ("groups",)
    actions = ["retry_ingestion"]

    def save_model(self, request: HttpRequest, obj: Document, form: forms.ModelForm, change: bool) -> None:
        if not change:
            obj.owner = request.user  # type: ignore[assignment]
        if "file" in form.changed_data:
            obj.original_name = Path(obj.file.name or "").name
        super().save_model(request, obj, form, change)
        if "file" in form.changed_data:
            obj.checksum = file_checksum(Path(obj.file.path))
            obj.save(update_fields=["checksum", "original_name"])

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Groups are saved only now, so the pipeline (which stamps them on chunks) is queued here.
        if form.changed_data:
            document_queue_ingestion(document=form.instance)

    @admin.action(description=_("Index again"))
    def retry_ingestion(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            document_queue_ingestion(document=document)
        self.message_user(request, _("%(n)d documents queued.") % {"n": queryset.count()}, messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        document_delete(document=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            document_delete(document=document)
