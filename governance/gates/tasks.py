"""Celery entry points for gates: thin, take ids, safe to run twice.

acks_late + reject_on_worker_lost (settings): a worker killed mid-gate leaves the message
unacknowledged, Redis redelivers it after the visibility timeout, and the conditional
claim in gate_run_claim keeps the outcome single. Every time limit and retry countdown
stays below CELERY_VISIBILITY_TIMEOUT (asserted in tests/gates/test_gate_services.py).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from governance.gates import services

# The largest retry countdown stays below the visibility timeout, or Redis would hand the
# waiting task to a second worker.
RETRY_BACKOFF_MAX = min(300, settings.CELERY_VISIBILITY_TIMEOUT // 2)
TRANSIENT = (OperationalError, InterfaceError, ConnectionError)
# Both gate tasks: acknowledged after they finish, re-queued if the worker dies, retried with
# backoff on a database or broker hiccup.
SAFE_RETRIES = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "max_retries": 5,
}


@shared_task(name="governance.gates.tasks.gate_run_task", bind=True, **SAFE_RETRIES)
def gate_run_task(self, run_id: int) -> str:
    return services.gate_run_execute(run_id=run_id)


@shared_task(name="governance.gates.tasks.gates_finalize_task", **SAFE_RETRIES)
def gates_finalize_task(request_id: int) -> None:
    services.gates_finalize(request_id=request_id)


@shared_task(name="governance.gates.tasks.gate_sweep", acks_late=True)
def gate_sweep() -> int:
    return services.gate_sweep()
