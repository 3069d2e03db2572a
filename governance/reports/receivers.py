"""Reports' answer to what lower layers announce (connected in apps.py)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver

from governance.gates.signals import gates_finished

log = logging.getLogger(__name__)


@receiver(gates_finished, dispatch_uid="reports.gates_finished")
def on_gates_finished(sender, *, request_id: int, **kwargs) -> None:
    """Draw the request's gate charts ahead, on a worker, so its PDF is quick to make."""

    def queue() -> None:
        from governance.reports.tasks import gate_charts_draw_task

        try:
            gate_charts_draw_task.delay(request_id)
        except Exception:  # broker down: the report draws them when it is made
            log.warning("gate charts of request %s not queued", request_id, exc_info=True)

    transaction.on_commit(queue)
