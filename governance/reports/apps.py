from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "governance.reports"
    label = "reports"

    def ready(self) -> None:
        from governance.reports import receivers  # noqa: F401  (connects the signal receivers)
