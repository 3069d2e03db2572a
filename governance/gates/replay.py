"""Recompute stored gate outcomes from exactly the inputs they recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from governance.gates.models import GateStatus
from governance.gates.runners import evaluate_gate
from governance.gates.stats.outcome import GateInputError

if TYPE_CHECKING:
    from governance.approvals.models import PromotionRequest

COMPARED_FIELDS = ("status", "metric", "value", "threshold", "ci_low", "ci_high", "p_value", "n")


@dataclass
class ReplayReport:
    compared: int = 0
    differences: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.differences == 0


def replay_request(request: PromotionRequest) -> ReplayReport:
    report = ReplayReport()
    for run in request.gate_runs.current():
        if run.status == GateStatus.BYPASSED or not run.outcome:
            report.lines.append(f"{run.gate_id}: {run.status}, nothing to recompute")
            continue
        stored = run.outcome
        pinned = {k: v for k, v in (stored.get("inputs") or {}).items() if ":" not in k}
        spec = {"id": run.gate_id, "type": run.gate_type, **run.params}
        try:
            result, _ = evaluate_gate(version=request.version, spec=spec, pinned_inputs=pinned)
        except GateInputError as exc:
            result = {"status": "error", "explanation": str(exc)}
        report.compared += 1
        diffs = [
            f"{name}: stored {stored.get(name)!r}, recomputed {result.get(name)!r}"
            for name in COMPARED_FIELDS
            if stored.get(name) != result.get(name)
        ]
        if diffs:
            report.differences += 1
            report.lines.append(f"{run.gate_id}: DIFFERENT — " + "; ".join(diffs))
        else:
            report.lines.append(f"{run.gate_id}: identical ({stored.get('status')}, value {stored.get('value')})")
    return report
