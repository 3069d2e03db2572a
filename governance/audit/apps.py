from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "governance.audit"
    label = "audit"

    def ready(self) -> None:
        from governance.audit import auth_events

        auth_events.connect()  # logins, failed logins and logouts are audited
