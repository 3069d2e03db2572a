"""Celery entry points for reports: thin, take ids, safe to run twice (report_claim)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from governance.celery import safe_retries
from governance.reports import services

SAFE_RETRIES = safe_retries(OperationalError, InterfaceError, ConnectionError)


@shared_task(name="governance.reports.tasks.report_build_task", **SAFE_RETRIES)
def report_build_task(report_id: int) -> str:
    return services.report_build(report_id=report_id)


@shared_task(name="governance.reports.tasks.reports_sweep_task", acks_late=True)
def reports_sweep_task() -> int:
    return services.reports_sweep()


@shared_task(name="governance.reports.tasks.gate_charts_draw_task", acks_late=True)
def gate_charts_draw_task(request_id: int) -> int:
    return services.gate_charts_draw(request_id=request_id)
