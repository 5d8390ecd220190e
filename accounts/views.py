"""Sign-in and sign-out: the login page (SSO button, break-glass password form), the two legs of the
OpenID Connect flow, and logout that also ends the session at the provider (RP-initiated logout)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseForbidden
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.sso import ProviderUnavailable, library_setting, provider_metadata

logger = logging.getLogger(__name__)

SSO_MESSAGES = {
    "failed": _("Single sign-on did not complete. Try again, or ask IT if it keeps failing."),
    "unavailable": _("The sign-in service cannot be reached right now. Try again in a few minutes."),
}


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.LOCAL_LOGIN_ENABLED:
            return HttpResponseForbidden("Password sign-in is switched off; use single sign-on.")
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            sso_enabled=settings.OIDC_ENABLED,
            local_login_enabled=settings.LOCAL_LOGIN_ENABLED,
            sso_error=SSO_MESSAGES.get(self.request.GET.get("sso", "")),
        )
        return context


def locked_out(request: HttpRequest, original_response: HttpResponse | None, credentials: Any) -> HttpResponse:
    """What a sign-in refused by the lockout answers (django-axes' ``AXES_LOCKOUT_CALLABLE``): 429 and a page
    that says for how long, whether the form or single sign-on was used."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


class SsoStartView(OIDCAuthenticationRequestView):
    """Redirects to the provider with state, nonce and a PKCE challenge kept in the session."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # the library reads settings here; Faro in get()
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return library_setting(attr, *args)

    def get(self, request: HttpRequest) -> HttpResponseBase:
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_metadata().authorization_endpoint
        except ProviderUnavailable as error:
            logger.error("sso: %s", error)
            return redirect(f"{reverse('login')}?sso=unavailable")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        response: HttpResponseBase = super().get(request)  # mozilla-django-oidc is untyped
        return response


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back: exchanges the code, checks the ID token, signs in."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return library_setting(attr, *args)

    def get(self, request: HttpRequest) -> HttpResponseBase:
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not configured.")
        try:
            response: HttpResponseBase = super().get(request)  # mozilla-django-oidc is untyped
        except (ProviderUnavailable, requests.RequestException, SuspiciousOperation) as error:
            logger.warning("sso: sign-in failed: %s", error)
            failure: HttpResponseBase = self.login_failure()
            return failure
        return response


def provider_logout_url(request: HttpRequest, id_token: str) -> str | None:
    """The provider's end-session URL that signs the person out there too and sends them back to the login
    page (RP-initiated logout 1.0); ``None`` when the provider offers none or cannot be reached."""
    try:
        endpoint = provider_metadata().end_session_endpoint
    except ProviderUnavailable as error:
        logger.warning("sso: logout at the provider skipped: %s", error)
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    id_token = request.session.get("oidc_id_token") if library_setting("OIDC_STORE_ID_TOKEN") else None
    auth.logout(request)
    if id_token and settings.OIDC_ENABLED:
        url = provider_logout_url(request, id_token)
        if url:
            return redirect(url)
    return redirect(resolve_url(settings.LOGOUT_REDIRECT_URL))
