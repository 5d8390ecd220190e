from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.gates import command_actor, roles_for_user
from accounts.models import User
from accounts.roles import Role
from accounts.services import user_roles_set

ROLE_NAMES = [role.value for role in Role if role is not Role.EMPLOYEE]


class Command(BaseCommand):
    help = "Show or change a user's roles; only an administrator (--actor) may do either."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--actor", required=True, help="the administrator doing this (checked)")
        parser.add_argument("--grant", action="append", default=[], choices=ROLE_NAMES)
        parser.add_argument("--revoke", action="append", default=[], choices=ROLE_NAMES)

    def handle(self, *args: Any, username: str, actor: str, grant: list[str], revoke: list[str], **_: Any) -> None:
        try:
            command_actor(actor, Role.ADMINISTRATOR)
        except PermissionDenied as refusal:
            raise CommandError(f"not allowed: {refusal}") from None
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        if grant or revoke:
            roles = (roles_for_user(user) | {Role(name) for name in grant}) - {Role(name) for name in revoke}
            user_roles_set(user=user, roles=roles)
        self.stdout.write(f"{user.username}: {', '.join(sorted(roles_for_user(user))) or 'no roles (inactive)'}")
