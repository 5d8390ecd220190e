from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.gates import role_required
from accounts.roles import Role
from governance.models import AuditEvent
from governance.selectors import AuditFilter, audit_event_list, audit_event_types

EXPORT_FIELDS = ("id", "created_at", "actor_id", "actor_username", "event_type", "object_type", "object_id")


class AuditFilterForm(forms.Form):
    username = forms.CharField(label=_("User"), required=False)
    event_type = forms.CharField(label=_("Event type"), required=False)
    document = forms.CharField(label=_("Document id"), required=False)
    since = forms.DateTimeField(label=_("From"), required=False)
    until = forms.DateTimeField(label=_("Until"), required=False)
    format = forms.ChoiceField(choices=[("html", "html"), ("csv", "csv"), ("jsonl", "jsonl")], required=False)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(events: Iterator[AuditEvent]) -> Iterator[list[object]]:
    yield [*EXPORT_FIELDS, "data", "previous_hash", "hash"]
    for event in events:
        values = [getattr(event, field) for field in EXPORT_FIELDS]
        yield [*values, json.dumps(event.data, ensure_ascii=False), event.previous_hash, event.hash]


def _jsonl(events: Iterator[AuditEvent]) -> Iterator[str]:
    for event in events:
        record = {field: getattr(event, field) for field in EXPORT_FIELDS}
        record |= {"data": event.data, "previous_hash": event.previous_hash, "hash": event.hash}
        yield json.dumps(record, ensure_ascii=False, default=str) + "\n"


@role_required(Role.AUDITOR)
def audit_log(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    events = audit_event_list(
        AuditFilter(
            username=data.get("username") or "",
            event_type=data.get("event_type") or "",
            document_id=data.get("document") or "",
            since=data.get("since"),
            until=data.get("until"),
        )
    )
    export = data.get("format") or "html"
    if export == "csv":
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in _rows(events.iterator())), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="faro-audit.csv"'
        return response
    if export == "jsonl":
        response = StreamingHttpResponse(_jsonl(events.iterator()), content_type="application/x-ndjson")
        response["Content-Disposition"] = 'attachment; filename="faro-audit.jsonl"'
        return response
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "governance/audit_log.html",
        {"form": form, "page": page, "event_types": audit_event_types(), "query": query.urlencode()},
    )
