from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.gates import roles_for_user
from accounts.models import User


@admin.register(User)
class FaroUserAdmin(UserAdmin[User]):
    """Users and their roles are for administrators only (Django grants ``auth.*_user`` to superusers)."""

    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (
            "Faro",
            {
                "fields": ("department", "sso_issuer", "sso_subject"),
                "description": _(
                    "People who sign in with SSO get their groups (and, when a role mapping is configured, "
                    "their roles) from the identity provider again at every sign-in."
                ),
            },
        ),
    )
    readonly_fields = ("sso_issuer", "sso_subject")
    list_display = ("username", "email", "department", "roles", "is_sso", "is_active")
    list_filter = (*UserAdmin.list_filter, "groups")

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return ", ".join(sorted(roles_for_user(obj)))

    @admin.display(description=_("SSO"), boolean=True)
    def is_sso(self, obj: User) -> bool:
        return obj.is_sso
