from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts: API tokens"

    def ready(self) -> None:
        from accounts.sentences import timeline_sentences_register

        timeline_sentences_register()
        # A password change revokes every API token of its user (see accounts.signals).
        from accounts import signals  # noqa: F401
