"""Pure gate statistics: numpy arrays and parameters in, a GateResult out.

No Django, no Celery, no I/O. The gate functions are re-exported lazily (PEP 562), so
importing `governance.gates.stats.outcome` alone does not load scipy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "GateResult": "outcome",
    "GateInputError": "outcome",
    "PASSED": "outcome",
    "FAILED": "outcome",
    "INCONCLUSIVE": "outcome",
    "performance_gate": "performance",
    "threshold_metric_gate": "threshold",
    "fairness_gate": "fairness",
    "drift_gate": "drift",
    "latency_gate": "latency",
    "error_rate_gate": "latency",
    "cost_gate": "cost",
    "cost_weighted_gate": "cost",
    "declared_metrics_gate": "declared",
}

__all__ = [
    "FAILED",
    "INCONCLUSIVE",
    "PASSED",
    "GateInputError",
    "GateResult",
    "cost_gate",
    "cost_weighted_gate",
    "declared_metrics_gate",
    "drift_gate",
    "error_rate_gate",
    "fairness_gate",
    "latency_gate",
    "performance_gate",
    "threshold_metric_gate",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
