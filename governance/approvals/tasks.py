"""Celery entry points for promotion requests: thin, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from governance.approvals.reviews import reviews_remind
from governance.approvals.selectors import requests_overdue, slot_states_for, users_who_may_approve
from governance.approvals.services import promotion_emergency_expire, promotion_expire_stale
from governance.approvals.sla import due_at, sla_text
from governance.notifications.services import notify


@shared_task(name="governance.approvals.tasks.promotion_expire_task", acks_late=True)
def promotion_expire_task() -> int:
    return len(promotion_expire_stale())


@shared_task(name="governance.approvals.tasks.promotion_emergency_expire_task", acks_late=True)
def promotion_emergency_expire_task() -> int:
    return len(promotion_emergency_expire())


@shared_task(name="governance.approvals.tasks.reviews_remind_task", acks_late=True)
def reviews_remind_task() -> int:
    return reviews_remind()


@shared_task(name="governance.approvals.tasks.promotion_sla_remind_task", acks_late=True)
def promotion_sla_remind_task() -> int:
    return sla_reminders_send()


def sla_reminders_send(*, now=None) -> int:
    """Remind everyone who may fill an open slot of an overdue request (daily, from beat).

    The key is the day: however often this runs, a person hears once per day and request.
    Each request is its own transaction, so one failure never holds back the others.
    Returns how many reminders were recorded.
    """
    now = now or timezone.now()
    day = timezone.localdate(now).isoformat()
    requests = list(requests_overdue(now))
    states = slot_states_for(requests)
    recorded = 0
    for request in requests:
        people = users_who_may_approve(request, states[request.pk])
        if not people:
            continue
        due = timezone.localtime(due_at(request))
        message = (
            f"{request} waits for your sign-off: approvals are {sla_text(request, now)} (due {due:%Y-%m-%d %H:%M})."
        )
        with transaction.atomic():
            recorded += len(
                notify(
                    event="sla_reminder", request=request, recipients=people, message=message, key=day, escalation=True
                )
            )
    return recorded
