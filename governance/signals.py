"""Audit events for changes that happen inside ``accounts``, Django's auth and Django's admin (which may
not import governance): sign-in, sign-out, sign-in lockouts (django-axes), group or role membership
changes, groups created, renamed or deleted, and every change saved through the admin site (its own change log,
written in the admin's transaction)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from governance.audit import audit_record


def _backend(request: Any) -> str:
    session = getattr(request, "session", None)
    return str(session.get("_auth_user_backend", "")) if session is not None else ""


def on_login(sender: Any, request: Any, user: Any, **_: Any) -> None:
    audit_record(
        event_type="auth.login", actor=user, object_type="user", object_id=user.pk, data={"backend": _backend(request)}
    )


def on_logout(sender: Any, request: Any, user: Any, **_: Any) -> None:
    if user is not None:
        audit_record(event_type="auth.logout", actor=user, object_type="user", object_id=user.pk)


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **_: Any) -> None:
    audit_record(event_type="auth.login_failed", data={"username": str(credentials.get("username", ""))[:150]})


def on_locked_out(
    sender: Any, request: Any = None, username: str | None = None, ip_address: str | None = None, **_: Any
) -> None:
    """django-axes refused a sign-in: too many failures for this username or from this address (it fires on
    the attempt that locks and on every attempt refused while locked)."""
    audit_record(
        event_type="auth.locked_out",
        data={"username": str(username or "")[:150], "ip_address": str(ip_address or "")},
    )


def on_groups_changed(sender: Any, instance: Any, action: str, pk_set: set[int] | None, **_: Any) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    names = sorted(Group.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True))
    audit_record(
        event_type="auth.groups_changed",
        object_type="user",
        object_id=instance.pk,
        data={"action": action.removeprefix("post_"), "groups": names, "username": instance.get_username()},
    )


def on_group_saving(sender: Any, instance: Group, **_: Any) -> None:
    # The name before this save, for the rename event below (none for a new group).
    instance._faro_name_before = (  # type: ignore[attr-defined]
        Group.objects.filter(pk=instance.pk).values_list("name", flat=True).first() if instance.pk else None
    )


def on_group_saved(sender: Any, instance: Group, created: bool, **_: Any) -> None:
    if created:
        audit_record(
            event_type="auth.group_created", object_type="group", object_id=instance.pk, data={"name": instance.name}
        )
        return
    before = getattr(instance, "_faro_name_before", None)
    if before is not None and before != instance.name:
        # Documents follow the group, not its name (``accounts.principals``): its members keep them, and a
        # new group given the old name gets none.
        audit_record(
            event_type="auth.group_renamed",
            object_type="group",
            object_id=instance.pk,
            data={"from": before, "to": instance.name},
        )


def on_group_deleted(sender: Any, instance: Group, **_: Any) -> None:
    audit_record(
        event_type="auth.group_deleted", object_type="group", object_id=instance.pk, data={"name": instance.name}
    )


_ADMIN_ACTIONS = {ADDITION: "add", CHANGE: "change", DELETION: "delete"}


def on_admin_change(sender: Any, instance: LogEntry, created: bool, **_: Any) -> None:
    if not created:
        return
    content_type = instance.content_type
    audit_record(
        event_type="admin.change",
        actor=instance.user,
        object_type=f"{content_type.app_label}.{content_type.model}" if content_type else "",
        object_id=instance.object_id or "",
        data={
            "action": _ADMIN_ACTIONS.get(instance.action_flag, str(instance.action_flag)),
            "object": instance.object_repr,
            "changes": instance.get_change_message(),
        },
    )


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="governance.on_login")
    user_logged_out.connect(on_logout, dispatch_uid="governance.on_logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="governance.on_login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="governance.on_locked_out")
    m2m_changed.connect(on_groups_changed, sender=get_user_model().groups.through, dispatch_uid="governance.groups")
    pre_save.connect(on_group_saving, sender=Group, dispatch_uid="governance.group_saving")
    post_save.connect(on_group_saved, sender=Group, dispatch_uid="governance.group_saved")
    post_delete.connect(on_group_deleted, sender=Group, dispatch_uid="governance.group_deleted")
    post_save.connect(on_admin_change, sender=LogEntry, dispatch_uid="governance.admin_change")
