from __future__ import annotations

import csv

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.gates import AuthenticatedHttpRequest, has_role, role_required
from accounts.roles import Role
from gaps.selectors import PERIODS, GapGroup, gap_report
from gaps.services import NOTE_MAX_CHARS, NoGapQuestions, gap_mark_handled

DEFAULT_DAYS = 30


class HandledForm(forms.Form):
    message_ids = forms.RegexField(regex=r"^\d+(,\d+)*$", max_length=100_000)
    note = forms.CharField(required=False, max_length=NOTE_MAX_CHARS)
    days = forms.TypedChoiceField(choices=[(d, d) for d in PERIODS], coerce=int, required=False)


def _days(request: HttpRequest) -> int:
    value = request.GET.get("days", "")
    return int(value) if value.isdigit() and int(value) in PERIODS else DEFAULT_DAYS


def _csv(report_groups: list[GapGroup], days: int) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="faro-gaps-{days}d.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["group", "group_label", "group_terms", "status", "question", "asked_at", "reasons", "closest_documents"]
    )
    for n, group in enumerate(report_groups, start=1):
        status = "returning" if group.returning else "handled" if group.handled else "open"
        documents = "; ".join(title for _, title, _ in group.closest_documents)
        for question in group.questions:
            writer.writerow(
                [
                    n,
                    group.label,
                    " ".join(group.terms),
                    status,
                    question.question,
                    question.asked_at.isoformat(),
                    "; ".join(question.reasons),
                    documents,
                ]
            )
    return response


@role_required(Role.KNOWLEDGE_ADMIN, Role.AUDITOR)
def report(request: AuthenticatedHttpRequest) -> HttpResponse:
    days = _days(request)
    data = gap_report(days=days)
    if request.GET.get("format") == "csv":
        return _csv(data.groups, days)
    return render(
        request,
        "gaps/report.html",
        {"report": data, "periods": PERIODS, "may_mark": has_role(request.user, Role.KNOWLEDGE_ADMIN)},
    )


@require_POST
@role_required(Role.KNOWLEDGE_ADMIN)
def mark_handled(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = HandledForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    ids = [int(value) for value in form.cleaned_data["message_ids"].split(",")]
    try:
        gap_mark_handled(user=request.user, message_ids=ids, note=form.cleaned_data["note"])
    except NoGapQuestions:
        return HttpResponse(status=400)
    return redirect(f"{reverse('gaps_report')}?days={form.cleaned_data['days'] or DEFAULT_DAYS}")
