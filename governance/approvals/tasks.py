"""Celery entry points for promotion requests: thin, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from governance.approvals.services import promotion_expire_stale


@shared_task(name="governance.approvals.tasks.promotion_expire_task", acks_late=True)
def promotion_expire_task() -> int:
    return len(promotion_expire_stale())
