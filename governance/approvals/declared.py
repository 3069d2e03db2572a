"""Declared metrics (the metrics file a team uploads) against the metrics the gates recompute
from the evidence. Both appear on the request page; a big difference is a warning there,
because an approver reading "AUC 0.81" in one place and "0.96" in another must know which
one is the evidence."""

from __future__ import annotations

from dataclasses import dataclass

#: A difference larger than this (absolute, or 5 % of the recomputed value if larger) is flagged.
TOLERANCE = 0.02


@dataclass(frozen=True)
class Disagreement:
    metric: str
    declared: float
    recomputed: float
    gate_id: str


def recomputed_metrics(outcomes: list[dict]) -> dict[str, tuple[float, str]]:
    """{metric: (value, gate id)} from gate outcomes: a performance gate's candidate value, a
    threshold gate's value."""
    found: dict[str, tuple[float, str]] = {}
    for outcome in outcomes:
        metric, kind = outcome.get("metric"), outcome.get("type")
        if not metric:
            continue
        if kind == "performance":
            value = (outcome.get("details") or {}).get("candidate")
        elif kind == "threshold_metric":
            value = outcome.get("value")
        else:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.setdefault(metric, (float(value), outcome.get("gate_id", "")))
    return found


def disagreements(declared: dict, outcomes: list[dict], tolerance: float = TOLERANCE) -> list[Disagreement]:
    out = []
    for metric, (value, gate_id) in sorted(recomputed_metrics(outcomes).items()):
        reported = declared.get(metric)
        if not isinstance(reported, (int, float)) or isinstance(reported, bool):
            continue
        if abs(reported - value) > max(tolerance, 0.05 * abs(value)):
            out.append(Disagreement(metric, float(reported), value, gate_id))
    return out
