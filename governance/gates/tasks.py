"""Celery entry points for gates: thin, take ids, safe to run twice.

acks_late + reject_on_worker_lost (settings): a worker killed mid-gate leaves the message
unacknowledged, Redis redelivers it after the visibility timeout, and the conditional
claim in gate_run_claim keeps the outcome single. Every time limit and retry countdown
stays below CELERY_VISIBILITY_TIMEOUT (asserted in tests/gates/test_gate_services.py).
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from governance.celery import safe_retries
from governance.gates import services

RETRY_BACKOFF_MAX = safe_retries()["retry_backoff_max"]
TRANSIENT = (OperationalError, InterfaceError, ConnectionError)
SAFE_RETRIES = safe_retries(*TRANSIENT)


@shared_task(name="governance.gates.tasks.gate_run_task", bind=True, **SAFE_RETRIES)
def gate_run_task(self, run_id: int) -> str:
    return services.gate_run_execute(run_id=run_id)


@shared_task(name="governance.gates.tasks.gates_finalize_task", **SAFE_RETRIES)
def gates_finalize_task(request_id: int) -> None:
    services.gates_finalize(request_id=request_id)


@shared_task(name="governance.gates.tasks.gate_sweep", acks_late=True)
def gate_sweep() -> int:
    return services.gate_sweep()
