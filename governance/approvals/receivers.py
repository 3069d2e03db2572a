"""The promotion service's answers to what lower layers announce (connected in apps.py)."""

from __future__ import annotations

from django.dispatch import receiver

from governance.approvals.services import promotion_evidence_changed, promotion_gates_completed
from governance.evidence.signals import evidence_changed
from governance.gates.signals import gates_finished


@receiver(gates_finished, dispatch_uid="approvals.gates_finished")
def on_gates_finished(sender, *, request_id: int, failed: list[str], errored: list[str], **kwargs) -> None:
    promotion_gates_completed(
        request_id=request_id, failed=failed, errored=errored, inconclusive=kwargs.get("inconclusive") or []
    )


@receiver(evidence_changed, dispatch_uid="approvals.evidence_changed")
def on_evidence_changed(sender, *, version_id: int, actor, what: str, **kwargs) -> None:
    promotion_evidence_changed(version_id=version_id, actor=actor, what=what)
