from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"
    default = True

    def ready(self) -> None:
        from accounts.roles import roles_ensure
        from accounts.sso import sso_config_check

        post_migrate.connect(roles_ensure, dispatch_uid="accounts.roles_ensure")
        sso_config_check()


class FaroAdminConfig(admin_apps.AdminConfig):
    """Django's admin on ``accounts.sites.FaroAdminSite``, so the admin obeys the role gate."""

    default = False
    default_site = "accounts.sites.FaroAdminSite"
