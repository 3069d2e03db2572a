from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "governance.approvals"
    label = "approvals"

    def ready(self) -> None:
        from governance.approvals import receivers  # noqa: F401  (connects the signal receivers)
