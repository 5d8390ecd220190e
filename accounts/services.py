"""Accounts: roles, groups, and the people single sign-on creates and keeps up to date."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User
from accounts.roles import ROLE_GROUPS, STAFF_ROLES, Role
from accounts.sso import access_from_claims

logger = logging.getLogger(__name__)

_NOT_IN_USERNAME = re.compile(r"[^\w.@+-]")


class SsoLoginRefused(Exception):
    """The provider vouched for the person, but Faro will not let them in."""


@transaction.atomic
def user_roles_set(*, user: User, roles: Iterable[Role]) -> None:
    """Give the user exactly these roles: role groups, ``is_superuser`` and ``is_staff`` follow."""
    wanted = frozenset(roles)
    for role, group_name in ROLE_GROUPS.items():
        group = Group.objects.get_or_create(name=group_name)[0]
        if role in wanted:
            user.groups.add(group)
        else:
            user.groups.remove(group)
    user.is_superuser = Role.ADMINISTRATOR in wanted
    user.is_staff = bool(wanted & STAFF_ROLES)
    user.save(update_fields=["is_superuser", "is_staff"])


@transaction.atomic
def user_groups_set(*, user: User, groups: Iterable[str]) -> None:
    """Make the user a member of exactly these (non-role) groups; role groups are left as they are."""
    role_group_names = set(ROLE_GROUPS.values())
    wanted = {name for name in groups if name not in role_group_names}
    current = {group.name: group for group in user.groups.exclude(name__in=role_group_names)}
    stale = [group for name, group in current.items() if name not in wanted]
    if stale:
        user.groups.remove(*stale)
    missing = [Group.objects.get_or_create(name=name)[0] for name in sorted(wanted - current.keys())]
    if missing:
        user.groups.add(*missing)


def _claim_str(claims: Mapping[str, Any], name: str, limit: int) -> str:
    value = claims.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _username_for(*, issuer: str, subject: str, claims: Mapping[str, Any]) -> str:
    """A readable, unused username: the configured claim, else email, else the subject."""
    base = ""
    for name in (settings.OIDC_USERNAME_CLAIM, "preferred_username", "email", "sub"):
        base = _NOT_IN_USERNAME.sub("_", _claim_str(claims, name, 150))
        if base:
            break
    if base and not User.objects.filter(username=base).exists():
        return base
    # Taken by someone else (a local account is never taken over): make it unique to this identity.
    suffix = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:10]
    return f"{base[:139]}-{suffix}" if base else f"sso-{suffix}"


@transaction.atomic
def user_sso_sync(*, issuer: str, claims: Mapping[str, Any]) -> User:
    """The person the provider vouched for, created on first sign-in (just in time) and brought up to date
    on every sign-in: name and email; groups from the claim (unless ``OIDC_SYNC_GROUPS`` is off), so someone
    removed from a group at the provider loses its documents at their next sign-in; and roles, when
    ``OIDC_ROLE_MAP`` is set (otherwise an administrator gives roles in Faro).

    Raises ``SsoLoginRefused`` for a user disabled in Faro: the provider cannot switch them back on.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SsoLoginRefused("the provider sent no usable subject")
    user = User.objects.select_for_update().filter(sso_issuer=issuer, sso_subject=subject).first()
    created = user is None
    if user is None:
        user = User(username=_username_for(issuer=issuer, subject=subject, claims=claims))
        user.sso_issuer, user.sso_subject = issuer, subject
        user.set_unusable_password()  # signs in through the provider only
    elif not user.is_active:
        logger.warning("sso: refused disabled user %s (%s)", user.username, subject)
        raise SsoLoginRefused("the account is disabled")

    user.email = _claim_str(claims, "email", 254) or user.email
    given, family = _claim_str(claims, "given_name", 150), _claim_str(claims, "family_name", 150)
    if given or family:
        user.first_name, user.last_name = given, family
    elif name := _claim_str(claims, "name", 150):
        user.first_name, user.last_name = name, ""
    user.save()

    access = access_from_claims(claims)
    if settings.OIDC_SYNC_GROUPS:
        user_groups_set(user=user, groups=access.groups)
    if settings.OIDC_ROLE_MAP:
        user_roles_set(user=user, roles=access.roles)
    logger.info(
        "sso: %s %s; groups %s; roles %s",
        "created" if created else "signed in",
        user.username,
        ", ".join(sorted(access.groups)) if settings.OIDC_SYNC_GROUPS else "(kept)",
        ", ".join(sorted(access.roles)) if settings.OIDC_ROLE_MAP else "(kept)",
    )
    return user
