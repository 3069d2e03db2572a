"""Celery tasks of the audit trail: the daily outside anchor (beat) and the page's chain check."""

from __future__ import annotations

from celery import shared_task

from governance.audit.anchor import anchor_write
from governance.audit.checks import chain_check_run


@shared_task(name="governance.audit.tasks.audit_anchor_task", acks_late=True)
def audit_anchor_task() -> str:
    return anchor_write().name


@shared_task(name="governance.audit.tasks.audit_chain_check_task", acks_late=True)
def audit_chain_check_task(check_id: int) -> bool | None:
    check = chain_check_run(check_id)
    return None if check is None else check.ok
