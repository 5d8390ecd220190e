from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts.roles import roles_ensure

        post_migrate.connect(roles_ensure, dispatch_uid="accounts.roles_ensure")
