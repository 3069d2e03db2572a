"""The chain check run from the audit page: asked for in the web process, computed by a worker.

`chain_check_request` stores a queued check and dispatches it after commit (one at a time:
while a check is queued or running, asking again returns it); `chain_check_run` (the Celery
task) runs `audit_verify` over the whole trail and stores the verdict with the chain head.
A check no worker finished within CHECK_LOST_AFTER is shown as lost and may be asked again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.audit.models import AuditChainCheck
from governance.audit.services import audit_verify

log = logging.getLogger(__name__)


def check_lost_after() -> timedelta:
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def chain_check_lost(check: AuditChainCheck, now=None) -> bool:
    return check.finished_at is None and (now or timezone.now()) - check.requested_at > check_lost_after()


def chain_check_latest() -> AuditChainCheck | None:
    return AuditChainCheck.objects.select_related("requested_by").first()


def chain_check_request(*, user) -> AuditChainCheck:
    """Queue a check (the caller checked the permission), or return the one in progress."""
    with transaction.atomic():
        latest = AuditChainCheck.objects.select_for_update().first()
        if latest is not None and latest.finished_at is None and not chain_check_lost(latest):
            return latest
        check = AuditChainCheck.objects.create(requested_by=user, requested_at=timezone.now())
        check_id = check.pk
        transaction.on_commit(lambda: _dispatch(check_id))
    return check


def _dispatch(check_id: int) -> None:
    from governance.audit.tasks import audit_chain_check_task

    try:
        audit_chain_check_task.delay(check_id)
    except Exception:  # broker down: the check shows as lost after the time limit
        log.exception("could not dispatch audit chain check %s", check_id)


def chain_check_run(check_id: int) -> AuditChainCheck | None:
    """Run one queued check. A check already started (a redelivered task) is left alone."""
    now = timezone.now()
    if not AuditChainCheck.objects.filter(pk=check_id, started_at__isnull=True).update(started_at=now):
        return None
    verdict = audit_verify()
    AuditChainCheck.objects.filter(pk=check_id).update(
        finished_at=timezone.now(),
        ok=verdict.ok,
        checked=verdict.checked,
        first_bad_seq=verdict.first_bad_seq,
        reason=verdict.reason,
        head_seq=verdict.head_seq,
        head_hash=verdict.head_hash,
    )
    return AuditChainCheck.objects.get(pk=check_id)
