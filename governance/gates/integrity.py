"""Gate outcomes in the hash chain.

A run that reaches a final status (passed, failed, inconclusive, error, bypassed) records a `gate.finished`
audit event in the same transaction: its gate, status and the sha256 of its outcome
(canonical JSON). The database refuses any change of a final run (gates migrations 0003 and 0004);
`audit_verify` runs `gate_outcomes_verify` after the chain holds, so a run edited with that
trigger dropped is named: its status or outcome no longer matches what the chain recorded.
"""

from __future__ import annotations

import json

from governance.audit.models import AuditEvent
from governance.audit.services import ChainVerdict, audit_record
from governance.core.canonical import canonical_json_sha256
from governance.gates.models import FINAL_GATE_STATUSES, GateRun

GATE_FINISHED = "gate.finished"


def outcome_sha256(outcome) -> str:
    """The sha256 of an outcome as the database stores it (a JSON round trip)."""
    return canonical_json_sha256(json.loads(json.dumps(outcome)))


def gate_finished_record(run: GateRun, *, model_name: str) -> None:
    """Inside the transaction that made `run` final."""
    audit_record(
        actor=None,
        action=GATE_FINISHED,
        obj=run,
        model_name=model_name,
        data={
            "gate_id": run.gate_id,
            "request_id": run.request_id,
            "round": run.round,
            "status": str(run.status),
            "outcome_sha256": outcome_sha256(run.outcome),
        },
    )


def _describe(run_id: int, gate_id: str, request_id: int) -> str:
    return f"gate run #{run_id} ({gate_id!r} of request #{request_id})"


def gate_outcomes_verify(checked: int) -> ChainVerdict | None:
    """Every final run against its gate.finished event; None when all hold. Streams the runs
    and keeps one small tuple per recorded outcome in memory."""
    recorded: dict[int, tuple[int, str, str]] = {}
    events = AuditEvent.objects.filter(action=GATE_FINISHED, object_type=GateRun._meta.label_lower)
    for seq, object_id, data in events.values_list("seq", "object_id", "data").iterator(chunk_size=5000):
        if object_id.isdigit() and isinstance(data, dict):
            recorded[int(object_id)] = (seq, str(data.get("status")), str(data.get("outcome_sha256")))
    runs = GateRun.objects.order_by("pk").values_list("pk", "gate_id", "request_id", "status", "outcome")
    for run_id, gate_id, request_id, status, outcome in runs.iterator(chunk_size=2000):
        final = status in FINAL_GATE_STATUSES
        event = recorded.get(run_id)
        if event is None:
            if final:
                return ChainVerdict(
                    False,
                    checked,
                    None,
                    f"{_describe(run_id, gate_id, request_id)} is {status} but the chain recorded no outcome for it",
                )
            continue
        seq, status_recorded, sha_recorded = event
        if status != status_recorded:
            return ChainVerdict(
                False,
                checked,
                seq,
                f"{_describe(run_id, gate_id, request_id)} is {status} but the chain recorded {status_recorded} "
                f"(event #{seq}): the run was edited",
            )
        if outcome_sha256(outcome) != sha_recorded:
            return ChainVerdict(
                False,
                checked,
                seq,
                f"{_describe(run_id, gate_id, request_id)}: its outcome does not match the hash the chain recorded "
                f"(event #{seq}): the run was edited",
            )
    return None
