"""Declared metrics (the metrics file a team uploads) against the metrics the gates recompute
from the evidence. Both appear on the request page; a big difference is a warning there,
because an approver reading "AUC 0.81" in one place and "0.96" in another must know which
one is the evidence. A policy that wants to *block* on the difference names a
`declared_metrics` gate; the rule (a tolerance, absolute or relative) is the gate's own,
`gates.stats.declared.disagrees`, used here with the page's fixed tolerance."""

from __future__ import annotations

from dataclasses import dataclass

from governance.gates.stats.declared import declared_numbers, disagrees
from governance.gates.stats.outcome import GateInputError

#: A difference larger than this (absolute, or RELATIVE_TOLERANCE of the recomputed value if
#: larger) is flagged.
TOLERANCE = 0.02
RELATIVE_TOLERANCE = 0.05


@dataclass(frozen=True)
class Disagreement:
    metric: str
    declared: float
    recomputed: float
    gate_id: str


def recomputed_metrics(outcomes: list[dict]) -> dict[str, tuple[float, str]]:
    """{metric: (value, gate id)} from gate outcomes: a performance gate's candidate value, a
    threshold gate's value, a declared_metrics gate's recomputed values."""
    found: dict[str, tuple[float, str]] = {}

    def keep(metric, value, gate_id):
        if metric and isinstance(value, (int, float)) and not isinstance(value, bool):
            found.setdefault(metric, (float(value), gate_id))

    for outcome in outcomes:
        metric, kind, gate_id = outcome.get("metric"), outcome.get("type"), outcome.get("gate_id", "")
        if kind == "performance":
            keep(metric, (outcome.get("details") or {}).get("candidate"), gate_id)
        elif kind == "threshold_metric":
            keep(metric, outcome.get("value"), gate_id)
        elif kind == "declared_metrics":
            for name, row in (outcome.get("groups") or {}).items():
                keep(name, (row or {}).get("recomputed"), gate_id)
    return found


def disagreements(declared: dict, outcomes: list[dict], tolerance: float = TOLERANCE) -> list[Disagreement]:
    try:
        reported_numbers = declared_numbers(declared)
    except GateInputError:  # not an object, or a name twice: the gate says so; the page shows nothing
        reported_numbers = {}
    out = []
    for metric, (value, gate_id) in sorted(recomputed_metrics(outcomes).items()):
        reported = reported_numbers.get(metric)
        if reported is None:
            continue
        if disagrees(reported, value, tolerance=tolerance, relative_tolerance=RELATIVE_TOLERANCE):
            out.append(Disagreement(metric, reported, value, gate_id))
    return out
