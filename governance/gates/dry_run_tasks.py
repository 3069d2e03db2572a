"""The Celery entry point of dry runs (gates/dry_run.py), kept apart from gates/tasks.py.

Registered by GatesConfig.ready (autodiscovery only imports `tasks` modules). Bounded in
time twice over: Celery's soft and hard limits (passed by `_dispatch`; a prefork worker
enforces them), and an alarm in the task itself, which also holds in a solo worker, where
Celery enforces none. Past the limit the dry run says "timed out". Not retried and not
re-queued when its worker dies: a dry run is a question a pipeline asks again.
"""

from __future__ import annotations

import contextlib
import signal
import threading

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import close_old_connections

from governance.gates.dry_run import dry_run_execute, dry_run_finish_badly
from governance.gates.models import DryRunStatus


class _Alarm(SoftTimeLimitExceeded):
    pass


@contextlib.contextmanager
def _alarm(seconds: float | None):
    """Raise SoftTimeLimitExceeded after `seconds` (main thread only: where signals arrive)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def ring(signum, frame):
        raise _Alarm()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@shared_task(
    name="governance.gates.dry_run_tasks.dry_run_task",
    bind=True,
    acks_late=False,
    reject_on_worker_lost=False,
)
def dry_run_task(self, run_id: int) -> str:
    limit = self.request.timelimit[1] if self.request.timelimit else None  # (hard, soft)
    try:
        with _alarm(limit):
            return dry_run_execute(run_id=run_id)
    except SoftTimeLimitExceeded:
        close_old_connections()
        dry_run_finish_badly(
            run_id=run_id,
            status=DryRunStatus.TIMED_OUT,
            error=f"The gates did not finish within the dry run's time limit ({limit:g} s)."
            if limit
            else "The gates did not finish within the dry run's time limit.",
        )
        return "timed out"
    except Exception as exc:
        close_old_connections()
        dry_run_finish_badly(run_id=run_id, status=DryRunStatus.ERROR, error=f"{type(exc).__name__}: {exc}")
        raise
