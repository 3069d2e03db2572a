"""Celery entry points for email: thin, take ids, safe to run twice.

A send task claims its row with a conditional update (services.notification_claim), so a
retried, redelivered or duplicated task sends nothing twice. SMTP trouble (every
smtplib error is an OSError, and so are refused or timed-out connections) and database
hiccups retry with exponential backoff; after the last retry the row stays unsent with its
attempts and last error, and the beat sweeper queues it again.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from governance.celery import safe_retries
from governance.notifications import services

SAFE_RETRIES = safe_retries(OSError, OperationalError, InterfaceError)


@shared_task(name="governance.notifications.tasks.notification_send_task", **SAFE_RETRIES)
def notification_send_task(notification_id: int) -> str:
    return services.notification_send(notification_id=notification_id)


@shared_task(name="governance.notifications.tasks.digest_send_task", **SAFE_RETRIES)
def digest_send_task(digest_id: int) -> str:
    return services.digest_send(digest_id=digest_id)


@shared_task(name="governance.notifications.tasks.digests_send_daily", acks_late=True)
def digests_send_daily() -> int:
    """Beat, once a day at NOTIFICATIONS_DIGEST_HOUR: one digest task per person."""
    due = services.digests_create()
    services.digests_queue(due)
    return len(due)


@shared_task(name="governance.notifications.tasks.notifications_sweep_task", acks_late=True)
def notifications_sweep_task() -> int:
    return services.notifications_sweep()
