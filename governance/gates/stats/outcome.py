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


class GateInputError(DomainError):
    """The inputs cannot be evaluated (empty, NaN, mismatched lengths, one class only...).

    The task records an `error` outcome with this message; it is never a pass.
    """

    default_code = "gate_input"


@dataclass(frozen=True)
class GateResult:
    status: str  # "passed" | "failed"
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
