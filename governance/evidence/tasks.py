"""Celery entry points for evidence: parsing large uploads (evidence/queued.py)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from governance.celery import safe_retries
from governance.evidence import queued


@shared_task(name="governance.evidence.tasks.evidence_parse_task", **safe_retries(OperationalError, InterfaceError))
def evidence_parse_task(upload_id: str) -> str:
    return queued.evidence_parse(upload_id=upload_id)


@shared_task(name="governance.evidence.tasks.evidence_parse_sweep_task", acks_late=True)
def evidence_parse_sweep_task() -> int:
    return queued.evidence_parse_sweep()
