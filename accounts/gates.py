"""The gates: every view, admin page, websocket event, sign-in and management command asks one of these.

They answer questions about a person (may this person chat, use the admin, act as a knowledge admin,
sign in with a password). Questions about one object (may this person see document 7) are answered by the
``access_<thing>`` getters in each app's ``selectors.py`` (``ingestion.selectors.access_document``,
``chatbot.selectors.access_conversation`` and ``access_answer``); a document's visibility is the one rule
in ``accounts.principals``. Each condition stands on its own line, and anything not explicitly allowed is
refused.

Who may do what, and where it is asked:

- chat and read documents (``may_chat``): the chat and document pages (``chat_required``), the chat
  socket when it opens and, through ``chat_user``, before every message;
- use the admin (``may_use_admin``), and do one thing there (``may_use_admin_for``): the admin site, the
  document progress socket when it opens and again while it stays open;
- act in a role (``has_role``, ``require_role``, ``role_required``): role pages and services;
- act for someone from the command line (``command_actor``); sign in with a password
  (``may_sign_in_locally``).

A websocket's scope holds the person who signed in when it opened; its consumer asks ``session_user`` for
the person as the session signs them in now, as every HTTP request does.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from importlib import import_module
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeAlias, TypeGuard, TypeVar

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect

from accounts.models import User
from accounts.roles import ROLE_GROUPS, STAFF_ROLES, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    AnyUser = User | AnonymousUser


class AuthenticatedHttpRequest(HttpRequest):
    """What a view behind ``chat_required`` or ``role_required`` receives: a request whose ``user`` is a
    signed-in person, never ``AnonymousUser`` (django-stubs' recipe). Only a type: at run time the view
    gets Django's ``HttpRequest``, and the gate is what makes the annotation true."""

    user: User


P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)
# A view that needs a signed-in person, and the same view once a gate stands in front of it (which may
# answer with a redirect to the login page instead).
AuthenticatedView: TypeAlias = Callable[Concatenate[AuthenticatedHttpRequest, P], R]
GatedView: TypeAlias = Callable[Concatenate[HttpRequest, P], R | HttpResponseRedirect]


def _signed_in(request: HttpRequest) -> TypeGuard[AuthenticatedHttpRequest]:
    return request.user.is_authenticated


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


def role_required(role: Role, *alternatives: Role) -> Callable[[AuthenticatedView[P, R]], GatedView[P, R]]:
    """A view decorator: anonymous visitors go to the login page; others need ``role`` or one of the
    ``alternatives`` (403 otherwise)."""

    def decorator(view: AuthenticatedView[P, R]) -> GatedView[P, R]:
        @wraps(view)
        def gated(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> R | HttpResponseRedirect:
            if not _signed_in(request):
                return redirect_to_login(request.get_full_path())
            if not any(has_role(request.user, held) for held in alternatives):
                require_role(request.user, role)
            return view(request, *args, **kwargs)

        return gated

    return decorator


def may_chat(user: AnyUser) -> bool:
    """Every active member of staff is an employee. Makes no query, so async code may call it."""
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    return True


def chat_required(view: AuthenticatedView[P, R]) -> GatedView[P, R]:
    """A view decorator for the chat and document pages: anyone ``may_chat`` refuses goes to the login page."""

    @wraps(view)
    def gated(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> R | HttpResponseRedirect:
        if not _signed_in(request) or not may_chat(request.user):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return gated


def admin_user(request: HttpRequest) -> User:
    """The person on an admin page, for the services it calls. The admin site admits only people
    ``may_use_admin`` lets in (``accounts.sites.FaroAdminSite``); a page reached any other way by an
    anonymous visitor is refused rather than run for ``AnonymousUser``."""
    if not _signed_in(request):
        raise PermissionDenied("sign in to use the admin")
    return request.user


class _SessionSnapshot(SessionBase):
    """A session's data as ``auth.get_user`` reads it. What it would write back (a session it ends, a key it
    renews after a secret rotation) is left to the person's next page, which holds the cookie: a socket
    cannot send one, and renewing the key here would sign the browser out."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self._session_cache = data

    def flush(self) -> None:
        self._session_cache = {}

    def cycle_key(self) -> None:
        pass


def session_user(session_key: str | None, user_id: int | None) -> User | None:
    """The person ``user_id`` if the session still signs them in, resolved as for every HTTP request
    (``django.contrib.auth.get_user``): the session still exists, the backend that signed them in still
    admits them (an active account; a password sign-in still allowed) and their password is the one they
    signed in with. ``None`` otherwise. Writes nothing."""
    if session_key is None or user_id is None:
        return None
    request = HttpRequest()
    request.session = _SessionSnapshot(import_module(settings.SESSION_ENGINE).SessionStore(session_key).load())
    user = auth.get_user(request)
    if not isinstance(user, User):
        return None
    if user.pk != user_id:
        return None
    return user


def chat_user(session_key: str | None, user_id: int | None) -> User | None:
    """The person as the session signs them in now, if they may still chat: the chat socket asks again
    before every message, so someone signed out, disabled or whose password changed since it opened is cut
    off at their next message."""
    user = session_user(session_key, user_id)
    if user is None:
        return None
    if not may_chat(user):
        return None
    return user


def may_use_admin(user: AnyUser) -> bool:
    """The admin site is for knowledge admins, auditors and administrators; what each may do there is
    then decided by the permissions of their role groups."""
    return bool(roles_for_user(user) & STAFF_ROLES)


def may_use_admin_for(user: AnyUser, permission: str) -> bool:
    """Whether the user may use the admin and holds ``permission`` (``"ingestion.view_document"``) there:
    what the admin asks before one of its pages, for a socket or page outside it that shows the same."""
    if not may_use_admin(user):
        return False
    return user.has_perm(permission)


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
