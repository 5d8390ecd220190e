from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.gates import role_required
from accounts.roles import Role
from evaluation.regressions import LATENCY_TOLERANCE, RATE_TOLERANCE
from evaluation.selectors import evaluation_dashboard


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
