"""Celery app, configured from Django settings (CELERY_ namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def safe_retries(*transient: type[BaseException]) -> dict:
    """Task options for work that must neither be lost nor done twice: acknowledged after it
    finishes, re-queued if its worker dies, retried with backoff on `transient` errors. The
    largest retry countdown stays below the Redis visibility timeout, or Redis would hand
    the waiting task to a second worker (tests/gates/test_gate_services.py checks it)."""
    from django.conf import settings

    return {
        "acks_late": True,
        "reject_on_worker_lost": True,
        "autoretry_for": transient,
        "retry_backoff": 5,
        "retry_backoff_max": min(300, settings.CELERY_VISIBILITY_TIMEOUT // 2),
        "max_retries": 5,
    }


@app.task(name="governance.ping")
def ping() -> str:
    """Round-trip probe used by /healthz and the tests."""
    return "pong"
