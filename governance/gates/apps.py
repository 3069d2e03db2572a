from django.apps import AppConfig


class GatesConfig(AppConfig):
    name = "governance.gates"
    label = "gates"

    def ready(self) -> None:
        from governance.audit.services import audit_fact_check_register
        from governance.gates.integrity import gate_outcomes_verify

        # audit_verify (verify_audit, the audit page's check) also checks gate outcomes.
        audit_fact_check_register("gate outcomes", gate_outcomes_verify)
        # Celery's autodiscovery imports `tasks` modules only; dry runs have their own.
        from governance.gates import dry_run_tasks  # noqa: F401
