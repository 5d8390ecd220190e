"""The admin site behind the role gate, signing in and out through Faro's own pages."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts import views
from accounts.gates import may_use_admin


class FaroAdminSite(admin.AdminSite):
    site_header = "Faro"
    site_title = "Faro"

    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, object] | None = None) -> HttpResponse:
        if request.user.is_authenticated:
            if self.has_permission(request):
                return redirect("admin:index")
            # Signed in without a role for the admin: the sign-in page would send them straight back here.
            return render(request, "admin/no_access.html", status=403)
        # One sign-in page (SSO and break-glass) for the whole site; the admin's own form would bypass it.
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        return redirect_to_login(next_url)

    def logout(  # type: ignore[override]
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        if request.method != "POST":
            return super().logout(request, extra_context)
        return views.logout(request)
