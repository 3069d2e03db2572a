from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "governance.accounts"
    label = "accounts"

    def ready(self) -> None:
        from governance.accounts import sessions  # noqa: F401  (records sign-ins, for sessions_end)
