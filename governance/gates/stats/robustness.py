"""Robustness gate: how much does each metric drop under perturbation?

Pure: judges the robustness report the pipeline uploaded
({"tests": [{"name", "metric", "baseline", "perturbed", "higher_is_better"?}]}).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .outcome import GateInputError, GateResult, judged
from .params import GateParams, checked

__all__ = ["DEFAULT_MAX_DROP", "robustness_gate"]

DEFAULT_MAX_DROP = 0.05
# A drop equal to max_drop passes; float noise (0.8 - 0.75 = 0.05000000000000004) too.
_TOLERANCE = 1e-9
MAX_EXPLAINED = 5


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):
            return _number(value.item(), path)
        raise GateInputError(f"{path}: must be a number")
    x = float(value)
    if not math.isfinite(x):
        raise GateInputError(f"{path}: must be a finite number")
    return x


def _tests(report: Any) -> list[dict[str, Any]]:
    if not isinstance(report, Mapping):
        raise GateInputError("$: robustness report must be an object")
    tests = report.get("tests")
    if tests is None:
        raise GateInputError("$.tests: required list is missing")
    if not isinstance(tests, list):
        raise GateInputError("$.tests: must be a list")
    if not tests:
        raise GateInputError("$.tests: must not be empty")
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, test in enumerate(tests):
        path = f"$.tests[{i}]"
        if not isinstance(test, Mapping):
            raise GateInputError(f"{path}: must be an object")
        for key in ("name", "metric"):
            value = test.get(key)
            if value is None:
                raise GateInputError(f"{path}.{key}: required property is missing")
            if not isinstance(value, str) or not value.strip():
                raise GateInputError(f"{path}.{key}: must be a non-empty string")
        name = test["name"].strip()
        if name in seen:
            raise GateInputError(f"{path}.name: duplicate test name {name!r} (also $.tests[{seen[name]}])")
        seen[name] = i
        for key in ("baseline", "perturbed"):
            if key not in test or test[key] is None:
                raise GateInputError(f"{path}.{key}: required property is missing")
        baseline = _number(test["baseline"], f"{path}.baseline")
        perturbed = _number(test["perturbed"], f"{path}.perturbed")
        hib = test.get("higher_is_better", True)
        if hib is None:
            hib = True
        if not isinstance(hib, bool):
            raise GateInputError(f"{path}.higher_is_better: must be true or false")
        drop = baseline - perturbed if hib else perturbed - baseline
        rows.append(
            {
                "name": name,
                "metric": test["metric"].strip(),
                "baseline": baseline,
                "perturbed": perturbed,
                "higher_is_better": hib,
                "drop": drop,
            }
        )
    return rows


def _drop_limit(name: str, value: Any) -> float:
    limit = _number(value, name)
    if limit < 0:
        raise GateInputError(f"{name}: must be >= 0")
    return limit


@dataclass(frozen=True, kw_only=True)
class RobustnessParams(GateParams):
    gate = "robustness"
    max_drop: float = checked(_drop_limit, default=DEFAULT_MAX_DROP)


def robustness_gate(*, report: Mapping[str, Any], **spec: Any) -> GateResult:
    """Failed when any test's metric drops by more than `max_drop` (absolute).

    drop = baseline - perturbed (higher_is_better, the default) or perturbed - baseline;
    a negative drop is an improvement. Value = the worst (largest) drop, threshold =
    max_drop; a drop equal to max_drop passes. groups per test name {metric, baseline,
    perturbed, higher_is_better, drop, passed}. A malformed report raises GateInputError
    naming the JSON path ($.tests[2].baseline).
    """
    limit = RobustnessParams.from_spec(spec).max_drop
    rows = _tests(report)

    groups: dict[str, dict[str, Any]] = {}
    failing = []
    for row in rows:
        passed = row["drop"] <= limit + _TOLERANCE
        groups[row["name"]] = {
            "metric": row["metric"],
            "baseline": row["baseline"],
            "perturbed": row["perturbed"],
            "higher_is_better": row["higher_is_better"],
            "drop": row["drop"],
            "passed": passed,
        }
        if not passed:
            failing.append(row)
    worst = max(rows, key=lambda r: r["drop"])

    def describe(r: dict[str, Any]) -> str:
        return f"{r['name']} {r['metric']} {r['baseline']:.4g}→{r['perturbed']:.4g} (drop {r['drop']:.4g})"

    if failing:
        failing.sort(key=lambda r: -r["drop"])
        shown = [describe(r) for r in failing[:MAX_EXPLAINED]]
        if len(failing) > MAX_EXPLAINED:
            shown.append(f"… {len(failing) - MAX_EXPLAINED} more")
        explanation = f"{len(failing)} of {len(rows)} tests dropped more than {limit:g}: " + "; ".join(shown)
    else:
        explanation = f"all {len(rows)} tests within a drop of {limit:g}; worst {describe(worst)}"
    details = {"worst_test": worst["name"], "failing_tests": [r["name"] for r in failing]}
    return judged(
        not failing,
        explanation,
        metric="max_metric_drop",
        value=worst["drop"],
        threshold=limit,
        n=len(rows),
        groups=groups,
        details=details,
    )
