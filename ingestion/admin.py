from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.gates import admin_user
from ingestion.archive import UploadItem
from ingestion.models import Document
from ingestion.parsers import is_supported
from ingestion.pipeline import document_queue_ingestion, size_limit_reason
from ingestion.services import document_delete, document_register, document_update, documents_register_upload


class TagsField(forms.CharField):
    """Tags typed as "a, b, c", stored as a list."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        text = super().to_python(value) or ""
        return list(dict.fromkeys(tag.strip() for tag in text.split(",") if tag.strip()))


def _check_upload(upload: Any, *, allow_zip: bool = False) -> None:
    extension = Path(upload.name).suffix.lower()
    if not is_supported(upload.name) and not (allow_zip and extension == ".zip"):
        raise forms.ValidationError(
            _("%(name)s: unsupported file type %(ext)s.") % {"name": upload.name, "ext": extension or "?"}
        )
    reason = size_limit_reason(upload.size)
    if reason:
        raise forms.ValidationError(f"{upload.name}: {reason}")


def _stored_upload(upload: Any, folder: Path) -> tuple[Path, str]:
    """Write an uploaded file under ``folder`` for the services, which take paths: (its path, its name)."""
    name = Path(upload.name).name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    with target.open("wb") as out:
        for part in upload.chunks():
            out.write(part)
    return target, name


class DocumentForm(forms.ModelForm[Document]):
    # Optional on upload: document_register names the document after its file until the worker reads the
    # document's own title (ingestion/services.py). An existing document keeps its title when left empty.
    title = forms.CharField(
        label=capfirst(_("title")),
        max_length=300,
        required=False,
        help_text=_("Leave empty to take it from the document."),
    )
    tags = TagsField(label=_("tags"), required=False, help_text=_("Comma-separated."))

    class Meta:
        model = Document
        fields = ["title", "file", "all_staff", "groups", "tags", "effective_date"]

    def clean_title(self) -> str:
        title: str = self.cleaned_data["title"].strip()
        return title or (self.instance.title if self.instance.pk else "")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if "file" in self.changed_data:
            _check_upload(upload)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all_staff") and not data.get("groups"):
            raise forms.ValidationError(
                _("Choose the groups that may see the document, or make it visible to all staff.")
            )
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        files = data if isinstance(data, list | tuple) else [data]
        return [single(item, initial) for item in files if item]


class BulkUploadForm(forms.Form):
    uploads = MultipleFileField(
        label=_("files"),
        widget=MultipleFileInput(attrs={"multiple": True}),
        help_text=_("Many files at once, or ZIP archives of them."),
    )
    all_staff = forms.BooleanField(label=_("visible to all staff"), required=False, initial=True)
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"), required=False, label=_("groups that may see them")
    )
    tags = TagsField(label=_("tags"), required=False, help_text=_("Comma-separated."))
    effective_date = forms.DateField(label=_("effective date"), required=False)

    def clean_uploads(self) -> list[Any]:
        files: list[Any] = self.cleaned_data["uploads"]
        for upload in files:
            _check_upload(upload, allow_zip=True)
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all_staff") and not data.get("groups"):
            raise forms.ValidationError(
                _("Choose the groups that may see the documents, or make them visible to all staff.")
            )
        return data


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin[Document]):
    form = DocumentForm
    change_list_template = "admin/ingestion/document/change_list.html"
    list_display = ("title", "progress_display", "status_reason", "version", "language", "chunk_count", "updated_at")
    list_filter = ("status", "all_staff", "groups", "language")
    search_fields = ("title", "original_name", "source")
    readonly_fields = (
        "status",
        "stage",
        "progress",
        "status_reason",
        "version",
        "language",
        "checksum",
        "size_bytes",
        "chunk_count",
        "owner",
        "source",
        "embedding_model",
        "indexed_at",
    )
    filter_horizontal = ("groups",)
    actions = ["retry_ingestion"]

    class Media:
        # upload.js keeps a chosen file when the form comes back with an error; admin.css fits the list.
        js = ("ingestion/progress.js", "ingestion/upload.js")
        css = {"all": ("ingestion/admin.css",)}

    @admin.display(description=_("status"), ordering="status")
    def progress_display(self, obj: Document) -> str:
        if obj.status == Document.Status.PROCESSING:
            # A bare percentage ("0%") only repeats the progress beside it.
            detail = "" if re.fullmatch(r"\s*\d+\s*%?\s*", obj.progress_detail) else f" ({obj.progress_detail})"
            label = f"{obj.get_status_display()} · {obj.get_stage_display()} {obj.progress}%{detail}"
        else:
            label = str(obj.get_status_display())
        return format_html(
            '<span class="faro-progress" data-document="{}" data-status="{}">{}</span>', obj.pk, obj.status, label
        )

    def save_model(self, request: HttpRequest, obj: Document, form: forms.ModelForm[Document], change: bool) -> None:
        """The form saves nothing itself: an upload goes through ``document_register`` and an edit through
        ``document_update``, the services bulk uploads and ``manage.py ingest`` use, so every entry point
        writes the same audit events and an access change reaches the index in this request."""
        data = form.cleaned_data
        upload = data["file"] if "file" in form.changed_data else None
        actor = admin_user(request)
        with tempfile.TemporaryDirectory(prefix="faro-upload-") as scratch:
            stored = _stored_upload(upload, Path(scratch)) if upload is not None else None
            if change:
                document = document_update(
                    document=obj,
                    actor=actor,
                    title=data["title"],
                    all_staff=data["all_staff"],
                    groups=data["groups"],
                    tags=data["tags"],
                    effective_date=data["effective_date"],
                    path=stored[0] if stored else None,
                    original_name=stored[1] if stored else None,
                )
            else:
                assert stored is not None  # the form requires a file
                document = document_register(
                    path=stored[0],
                    original_name=stored[1],
                    title=data["title"],
                    owner=actor,
                    all_staff=data["all_staff"],
                    groups=data["groups"],
                    tags=data["tags"],
                    effective_date=data["effective_date"],
                )
        # The admin goes on with this object (its log entry, message and redirect): make it the saved row.
        obj.pk = document.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: forms.ModelForm[Document], formsets: Any, change: bool) -> None:
        # The groups were saved by the service, with the rest of the document; only formsets would remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description=_("Index again"), permissions=["change"])
    def retry_ingestion(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            document_queue_ingestion(document=document)
        self.message_user(request, _("%(n)d documents queued.") % {"n": queryset.count()}, messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        document_delete(document=obj, actor=admin_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            document_delete(document=document, actor=admin_user(request))

    def get_urls(self) -> list[URLPattern]:
        bulk = path(
            "bulk-upload/",
            self.admin_site.admin_view(self.bulk_upload_view),
            name="ingestion_document_bulk_upload",
        )
        return [bulk, *super().get_urls()]

    def bulk_upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BulkUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            with tempfile.TemporaryDirectory(prefix="faro-bulk-") as scratch:
                items = [
                    UploadItem(*_stored_upload(upload, Path(scratch) / str(number)))
                    for number, upload in enumerate(form.cleaned_data["uploads"])
                ]
                summary = documents_register_upload(
                    items=items,
                    owner=admin_user(request),
                    all_staff=form.cleaned_data["all_staff"],
                    groups=form.cleaned_data["groups"],
                    tags=form.cleaned_data["tags"],
                    effective_date=form.cleaned_data["effective_date"],
                )
            self.message_user(request, _("%(n)d documents queued.") % {"n": len(summary.documents)}, messages.SUCCESS)
            for name, reason in summary.skipped:
                self.message_user(request, f"{name}: {reason}", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:ingestion_document_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Upload many documents"),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/ingestion/document/bulk_upload.html", context)
