"""The result every pure gate function returns.

Pure: no Django, no Celery, no I/O. `gates/tasks.py` adds gate_id, type, inputs and
computed_at to build the stored gate outcome of DESIGN.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from governance.core.errors import DomainError

PASSED = "passed"
FAILED = "failed"
# The data cannot tell: the interval straddles the threshold, or the sample is below what
# the statistic needs. Never a pass; `details["needed"]` says what data would decide it.
INCONCLUSIVE = "inconclusive"


class GateInputError(DomainError):
    """The inputs cannot be evaluated (empty, NaN, mismatched lengths, one class only...).

    The task records an `error` outcome with this message; it is never a pass.
    """

    default_code = "gate_input"


@dataclass(frozen=True)
class GateResult:
    status: str  # "passed" | "failed" | "inconclusive"
    metric: str | None
    value: float | None
    threshold: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    n: int | None = None
    groups: dict[str, Any] | None = None
    explanation: str = ""
    # Compact, JSON-serialisable extra data (e.g. what a chart needs: histogram bins,
    # per-feature drift rows). Bounded in size: never raw per-row arrays.
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_dict(self) -> dict[str, Any]:
        return _json_safe(asdict(self))


def judged(passed: bool, explanation: str, **result: Any) -> GateResult:
    """The result of a gate that `passed` or not: the status follows it and the
    explanation ends with the verdict (``"... → passed"``)."""
    status = PASSED if passed else FAILED
    return GateResult(status=status, explanation=f"{explanation} → {status}", **result)


def undecided(explanation: str, needed: dict[str, Any], **result: Any) -> GateResult:
    """An `inconclusive` result: the explanation says why the data cannot tell and what
    would decide it; `needed` (e.g. {"rows": 1900, "group": "x"}, or {"rows": 72} for the
    whole sample) is stored as `details["needed"]`."""
    details = {**(result.pop("details", None) or {}), "needed": needed}
    return GateResult(status=INCONCLUSIVE, explanation=f"{explanation} → {INCONCLUSIVE}", details=details, **result)


def checklist(
    metric: str,
    items: list[str],
    problems: list[str],
    groups: dict[str, Any],
    *,
    all_clear: str,
    details: dict,
    warnings: list[str] | None = None,
) -> GateResult:
    """The result of a checklist gate (documents, lineage fields): failed when any of the
    required `items` has a problem; value = the number of problems, threshold 0, n = the
    number of items; the explanation lists the problems, or says `all_clear`, then any
    `warnings` (named, but not problems)."""
    explanation = "; ".join(problems) or all_clear
    if warnings:
        explanation += "; warning: " + "; ".join(warnings)
    n_problems = float(len(problems))
    return judged(
        not problems,
        explanation,
        metric=metric,
        value=n_problems,
        threshold=0.0,
        n=len(items),
        groups=groups,
        details=details,
    )


#: What a comparison with the baseline reports as its value (details["compared"]): the
#: candidate's difference, not the metric itself (an AUC "value" of -0.015 is a gain).
DIFFERENCE_NAMES = ("drop", "increase", "improvement")


def value_name(outcome: dict[str, Any] | None) -> str:
    """The word for an outcome's `value` in a label: "drop", "increase" or "improvement"
    when the gate compared the candidate with its baseline, else "value"."""
    compared = ((outcome or {}).get("details") or {}).get("compared")
    return compared if isinstance(compared, str) and compared in DIFFERENCE_NAMES else "value"


def _json_safe(value: Any) -> Any:
    """Turn numpy scalars into Python ones and non-finite floats into None."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
