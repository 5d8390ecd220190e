from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A member of staff. Access to documents follows the user's groups (see ``accounts.principals``).

    People who sign in through single sign-on are identified by their provider's issuer and subject, never
    by username or email, which the provider lets change; their groups and roles follow the provider.
    """

    department = models.CharField(_("department"), max_length=100, blank=True)
    sso_issuer = models.CharField(_("SSO issuer"), max_length=255, blank=True)
    sso_subject = models.CharField(_("SSO subject"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["sso_issuer", "sso_subject"], condition=~Q(sso_subject=""), name="user_sso_identity_unique"
            )
        ]

    @property
    def is_sso(self) -> bool:
        return bool(self.sso_subject)
