"""Authentication backends: single sign-on (OpenID Connect) and the local password login.

Both are always listed in ``AUTHENTICATION_BACKENDS`` and decide at each attempt whether they are switched
on, so the settings alone (``OIDC_*``, ``LOCAL_LOGIN_ENABLED``) choose how people sign in.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.gates import may_sign_in_locally
from accounts.models import User
from accounts.services import SsoLoginRefused, user_sso_sync
from accounts.sso import ProviderMetadata, library_setting, provider_metadata

logger = logging.getLogger(__name__)


class SsoBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's authorization-code flow (PKCE, nonce, signed ID token), plus what Faro needs:
    endpoints from discovery, the ID token's issuer and audience checked, users found by issuer and
    subject, and groups and roles synchronised from the claims."""

    metadata: ProviderMetadata

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads its settings here; Faro reads them when a sign-in happens, so that this
        # backend costs nothing (and needs no provider) while single sign-on is off.
        self.UserModel = User

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return library_setting(attr, *args)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        if not settings.OIDC_ENABLED or request is None:
            return None
        if "nonce" not in kwargs or "username" in kwargs or "password" in kwargs:
            return None  # not the callback of a sign-in this backend started
        self.metadata = provider_metadata()
        self.OIDC_OP_TOKEN_ENDPOINT = self.metadata.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = self.metadata.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = self.metadata.jwks_uri
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_SIGN_ALGORITHM
        self.OIDC_RP_IDP_SIGN_KEY = None
        user: User | None = super().authenticate(request, **kwargs)  # mozilla-django-oidc is untyped
        return user

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        if "nonce" in kwargs:  # the ID token (a signed userinfo response comes without a nonce)
            self._verify_id_token_claims(payload)
        return payload

    def _verify_id_token_claims(self, payload: dict[str, Any]) -> None:
        """The library checks the signature, expiry and nonce; the issuer and audience are checked here."""
        if payload.get("iss") != self.metadata.issuer:
            raise SuspiciousOperation("ID token from another issuer")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        if settings.OIDC_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token for another client")
        if len(audiences) > 1 and payload.get("azp") != settings.OIDC_CLIENT_ID:
            raise SuspiciousOperation("ID token authorised for another client")

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The ID token's claims, completed by the userinfo endpoint. Entra ID sends groups only in the ID
        token; others only from userinfo."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT and access_token:
            userinfo = super().get_userinfo(access_token, id_token, payload)
            if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("userinfo is about someone else")
            claims.update(userinfo)
        return claims

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return isinstance(claims.get("sub"), str) and bool(claims["sub"])

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return User.objects.filter(sso_issuer=self.metadata.issuer, sso_subject=claims.get("sub"))

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            raise SuspiciousOperation("the provider sent no subject")
        try:
            return user_sso_sync(issuer=self.metadata.issuer, claims=claims)
        except SsoLoginRefused as refusal:
            logger.warning("sso: sign-in refused: %s", refusal)
            return None

    def get_user(self, user_id: int) -> User | None:
        # The library's get_user skips Django's is_active check: a disabled user's session must end.
        user = User.objects.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        return user


class LocalLoginBackend(ModelBackend):
    """Username and password: everyone while single sign-on is off; with it on, administrators only
    (break-glass); nobody when ``LOCAL_LOGIN_ENABLED`` is off. Sessions it opened end at the next request
    once the person may no longer sign in this way."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not settings.LOCAL_LOGIN_ENABLED:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if not isinstance(user, User) or not may_sign_in_locally(user):
            return None
        return user

    def get_user(self, user_id: int) -> User | None:
        user = super().get_user(user_id)
        if not isinstance(user, User) or not may_sign_in_locally(user):
            return None
        return user
