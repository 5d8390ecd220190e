"""OpenID Connect single sign-on: the provider's metadata, the claims-to-access mapping, and the one table
that translates Faro's ``OIDC_*`` settings into the names mozilla-django-oidc reads.

Everything about a provider comes from its discovery document (``OIDC_ISSUER`` or ``OIDC_DISCOVERY_URL``),
fetched when someone signs in and kept for an hour, so a process starts (and local login works) while
the provider is unreachable, and Entra ID, Okta, Google Workspace or Keycloak differ only in settings.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from accounts.roles import ROLE_GROUPS, Role

logger = logging.getLogger(__name__)

DISCOVERY_TTL_SECONDS = 3600
HTTP_TIMEOUT_SECONDS = 10


class ProviderUnavailable(Exception):
    """The identity provider's discovery document could not be fetched or is not usable."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None


@dataclass(frozen=True)
class SsoAccess:
    """What a sign-in grants: Faro groups (document visibility) and roles (what the person may do)."""

    groups: frozenset[str]
    roles: frozenset[Role]


def discovery_url() -> str:
    if settings.OIDC_DISCOVERY_URL:
        return str(settings.OIDC_DISCOVERY_URL)
    if settings.OIDC_ISSUER:
        return f"{str(settings.OIDC_ISSUER).rstrip('/')}/.well-known/openid-configuration"
    raise ImproperlyConfigured("single sign-on needs OIDC_ISSUER or OIDC_DISCOVERY_URL")


_cache: dict[str, tuple[float, ProviderMetadata]] = {}
_cache_lock = threading.Lock()


def provider_metadata() -> ProviderMetadata:
    """The configured provider's endpoints, from its discovery document (cached for an hour)."""
    url = discovery_url()
    with _cache_lock:
        cached = _cache.get(url)
        if cached is not None and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
            return cached[1]
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"cannot read {url}: {error}") from error
    metadata = _metadata_from_document(document)
    if settings.OIDC_ISSUER and metadata.issuer.rstrip("/") != str(settings.OIDC_ISSUER).rstrip("/"):
        raise ProviderUnavailable(f"{url} names issuer {metadata.issuer!r}, not OIDC_ISSUER")
    with _cache_lock:
        _cache[url] = (time.monotonic(), metadata)
    return metadata


def provider_metadata_clear() -> None:
    with _cache_lock:
        _cache.clear()


def _metadata_from_document(document: Any) -> ProviderMetadata:
    if not isinstance(document, dict):
        raise ProviderUnavailable("the discovery document is not a JSON object")
    required = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    missing = [name for name in required if not isinstance(document.get(name), str)]
    if missing:
        raise ProviderUnavailable(f"the discovery document lacks {', '.join(missing)}")
    optional = {name: document.get(name) for name in ("userinfo_endpoint", "end_session_endpoint")}
    return ProviderMetadata(
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=optional["userinfo_endpoint"] if isinstance(optional["userinfo_endpoint"], str) else None,
        end_session_endpoint=(
            optional["end_session_endpoint"] if isinstance(optional["end_session_endpoint"], str) else None
        ),
    )


# --- claims ------------------------------------------------------------------------------------------


def claim_values(claims: Mapping[str, Any], name: str | None) -> frozenset[str]:
    """A claim as a set of strings: a list of strings, or one string (some providers send one group bare)."""
    if not name:
        return frozenset()
    value = claims.get(name)
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list | tuple):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def access_from_claims(claims: Mapping[str, Any]) -> SsoAccess:
    """Map the provider's groups (and app roles) to Faro groups and roles, least privilege first.

    Only mapped groups count, unless ``OIDC_GROUPS_PASSTHROUGH`` lets unmapped names through as they are.
    Role groups can never be reached through the group mapping or passthrough: roles come only from
    ``OIDC_ROLE_MAP``. Everyone who signs in is an employee.
    """
    groups_claim = settings.OIDC_GROUPS_CLAIM
    claim_names = claims.get("_claim_names")
    if isinstance(claim_names, dict) and groups_claim in claim_names:
        # Entra ID's "groups overage": too many groups to list in the token. Grant none rather than guess.
        logger.warning("the %r claim was left out by the provider (too many groups); no groups granted", groups_claim)
    idp_groups = claim_values(claims, groups_claim)
    group_map: Mapping[str, str] = settings.OIDC_GROUP_MAP
    groups = {group_map[name] for name in idp_groups if name in group_map}
    if settings.OIDC_GROUPS_PASSTHROUGH:
        groups |= {name for name in idp_groups if name not in group_map and 0 < len(name) <= 150}
    groups -= set(ROLE_GROUPS.values())

    role_sources = idp_groups | claim_values(claims, settings.OIDC_ROLES_CLAIM)
    role_map: Mapping[str, str] = settings.OIDC_ROLE_MAP
    roles = {Role.EMPLOYEE, *(Role(role_map[name]) for name in role_sources if name in role_map)}
    return SsoAccess(groups=frozenset(groups), roles=frozenset(roles))


def sso_config_check() -> None:
    """Fail at start-up, not at someone's first sign-in, when the mappings name what cannot exist."""
    valid_roles = {role.value for role in Role}
    for idp_group, role in settings.OIDC_ROLE_MAP.items():
        if role not in valid_roles:
            raise ImproperlyConfigured(
                f"OIDC_ROLE_MAP maps {idp_group!r} to {role!r}; roles are {', '.join(sorted(valid_roles))}"
            )
    for idp_group, group in settings.OIDC_GROUP_MAP.items():
        if group in ROLE_GROUPS.values():
            raise ImproperlyConfigured(
                f"OIDC_GROUP_MAP maps {idp_group!r} to the role group {group!r}; grant roles with OIDC_ROLE_MAP"
            )
        if not 0 < len(group) <= 150:
            raise ImproperlyConfigured(f"OIDC_GROUP_MAP maps {idp_group!r} to an invalid group name")


# --- the settings mozilla-django-oidc reads ---------------------------------------------------------

_LIBRARY_SETTINGS: dict[str, Callable[[], Any]] = {
    "OIDC_RP_CLIENT_ID": lambda: settings.OIDC_CLIENT_ID,
    "OIDC_RP_CLIENT_SECRET": lambda: settings.OIDC_CLIENT_SECRET,
    "OIDC_RP_SCOPES": lambda: settings.OIDC_SCOPES,
    "OIDC_RP_SIGN_ALGO": lambda: settings.OIDC_SIGN_ALGORITHM,
    "OIDC_RP_IDP_SIGN_KEY": lambda: None,
    "OIDC_OP_AUTHORIZATION_ENDPOINT": lambda: provider_metadata().authorization_endpoint,
    "OIDC_OP_TOKEN_ENDPOINT": lambda: provider_metadata().token_endpoint,
    "OIDC_OP_USER_ENDPOINT": lambda: provider_metadata().userinfo_endpoint,
    "OIDC_OP_JWKS_ENDPOINT": lambda: provider_metadata().jwks_uri,
    "OIDC_TOKEN_USE_BASIC_AUTH": lambda: settings.OIDC_TOKEN_AUTH_METHOD == "client_secret_basic",
    "OIDC_USE_NONCE": lambda: True,
    "OIDC_USE_PKCE": lambda: True,
    "OIDC_STORE_ID_TOKEN": lambda: True,  # the id_token_hint of RP-initiated logout
    "OIDC_STORE_ACCESS_TOKEN": lambda: False,
    "OIDC_VERIFY_SSL": lambda: True,
    "OIDC_TIMEOUT": lambda: HTTP_TIMEOUT_SECONDS,
    "OIDC_CREATE_USER": lambda: True,
    "OIDC_ALLOW_UNSECURED_JWT": lambda: False,
    "LOGIN_REDIRECT_URL_FAILURE": lambda: f"{reverse('login')}?sso=failed",
}


def library_setting(name: str, *default: Any) -> Any:
    """What mozilla-django-oidc's ``get_settings`` returns: Faro's own settings, translated."""
    if name in _LIBRARY_SETTINGS:
        return _LIBRARY_SETTINGS[name]()
    if default:
        return getattr(settings, name, default[0])
    return getattr(settings, name)
