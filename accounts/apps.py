from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts: API tokens"

    def ready(self) -> None:
        # A password change revokes every API token of its user (see accounts.signals).
        from accounts import signals  # noqa: F401
