"""The promotion service's answers to what lower layers announce (connected in apps.py)."""

from __future__ import annotations

from django.dispatch import receiver

from governance.approvals.services import promotion_gates_completed
from governance.gates.signals import gates_finished


@receiver(gates_finished, dispatch_uid="approvals.gates_finished")
def on_gates_finished(sender, *, request_id: int, failed: list[str], errored: list[str], **kwargs) -> None:
    promotion_gates_completed(request_id=request_id, failed=failed, errored=errored)
