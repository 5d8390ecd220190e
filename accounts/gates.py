"""The gates: every view, admin page, websocket event, sign-in and management command asks one of these.

They answer questions about a person (may this person chat, use the admin, act as a knowledge admin,
sign in with a password). Questions about one object (may this person see document 7) are answered by the
``access_<thing>`` getters beside the object, built on ``accounts.principals``. Each condition stands on
its own line, and anything not explicitly allowed is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from accounts.models import User
from accounts.roles import ROLE_GROUPS, STAFF_ROLES, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest
    from django.http.response import HttpResponseBase

    AnyUser = User | AnonymousUser

View = TypeVar("View", bound=Callable[..., "HttpResponseBase"])


def roles_for_user(user: AnyUser) -> frozenset[Role]:
    """The roles an active, authenticated member of staff holds; anyone else holds none."""
    if not user.is_authenticated:
        return frozenset()
    if not user.is_active:
        return frozenset()
    names = set(user.groups.values_list("name", flat=True))
    roles = {Role.EMPLOYEE, *(role for role, group in ROLE_GROUPS.items() if group in names)}
    if user.is_superuser:
        roles.add(Role.ADMINISTRATOR)
    return frozenset(roles)


def has_role(user: AnyUser, role: Role) -> bool:
    """Whether the user may act in ``role``; an administrator may act in every role."""
    roles = roles_for_user(user)
    return role in roles or Role.ADMINISTRATOR in roles


def require_role(user: AnyUser, role: Role) -> None:
    if not has_role(user, role):
        raise PermissionDenied(f"this needs the {role} role")


def role_required(role: Role, *alternatives: Role) -> Callable[[View], View]:
    """A view decorator: anonymous visitors go to the login page; others need ``role`` or one of the
    ``alternatives`` (403 otherwise)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(has_role(request.user, held) for held in alternatives):
                require_role(request.user, role)
            return view(request, *args, **kwargs)

        return gated  # type: ignore[return-value]

    return decorator


def may_chat(user: AnyUser) -> bool:
    """Every active member of staff is an employee. Makes no query, so async code may call it."""
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    return True


def chat_user(user_id: int | None) -> User | None:
    """The person as stored now, if they may still chat: the websocket asks again before every question,
    so a user disabled mid-conversation is cut off at their next message."""
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    if not may_chat(user):
        return None
    return user


def may_use_admin(user: AnyUser) -> bool:
    """The admin site is for knowledge admins, auditors and administrators; what each may do there is
    then decided by the permissions of their role groups."""
    return bool(roles_for_user(user) & STAFF_ROLES)


def may_sign_in_locally(user: User) -> bool:
    """Password sign-in: for everyone while single sign-on is off; once it is on, only administrators
    (break-glass), and for nobody when ``LOCAL_LOGIN_ENABLED`` is off."""
    if not settings.LOCAL_LOGIN_ENABLED:
        return False
    if not user.is_active:
        return False
    if not settings.OIDC_ENABLED:
        return True
    return user.is_superuser


def command_actor(username: str, role: Role) -> User:
    """The person a management command acts for; ``PermissionDenied`` unless they exist and hold ``role``."""
    user = User.objects.filter(username=username).first()
    if user is None:
        raise PermissionDenied(f"no user {username!r}")
    require_role(user, role)
    return user
