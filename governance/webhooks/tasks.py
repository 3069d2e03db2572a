"""Celery entry points for webhooks: thin, take ids, safe to run twice.

A delivery task claims its row (services.delivery_claim) before it sends, so a duplicated or
redelivered task message sends nothing twice at once. The HTTP retries are the service's own
(it records each attempt and queues the next with a growing countdown); `safe_retries` covers
the database being away and a worker dying mid-task (acks_late, re-queued).
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from governance.celery import safe_retries
from governance.webhooks import services

SAFE_RETRIES = safe_retries(OperationalError, InterfaceError)


@shared_task(name="governance.webhooks.tasks.webhook_deliver_task", **SAFE_RETRIES)
def webhook_deliver_task(delivery_id: int) -> str:
    return services.delivery_send(delivery_id=delivery_id)


@shared_task(name="governance.webhooks.tasks.webhooks_sweep_task", acks_late=True)
def webhooks_sweep_task() -> int:
    return services.deliveries_sweep()
