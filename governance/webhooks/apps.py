from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "governance.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from governance.webhooks import receivers  # noqa: F401  (connects the audit-event receiver)
