from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.gates import role_required
from accounts.roles import Role
from evaluation.regressions import LATENCY_TOLERANCE, RATE_TOLERANCE
from evaluation.selectors import evaluation_dashboard
from evaluation.tasks import evaluate_demo


@role_required(Role.AUDITOR)  # auditors, and administrators (who may act in every role)
def dashboard(request: HttpRequest) -> HttpResponse:
    data = evaluation_dashboard(request.GET.get("set", ""))
    return render(
        request,
        "evaluation/dashboard.html",
        {
            "dashboard": data,
            "rate_tolerance": RATE_TOLERANCE,
            "latency_tolerance_percent": round(100 * LATENCY_TOLERANCE),
        },
    )


@require_POST
@role_required(Role.AUDITOR)
def demo_run(request: HttpRequest) -> HttpResponse:
    """Queue one evaluation of the demo gold set (the dashboard's button; the worker runs it)."""
    transaction.on_commit(evaluate_demo.delay)
    messages.success(request, _("The demo evaluation is queued. Its run appears here in a few minutes."))
    return HttpResponseRedirect(reverse("evaluation_dashboard"))
