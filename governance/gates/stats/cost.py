"""Cost gates.

* `cost_gate`: serving cost per 1,000 predictions from the cost JSON evidence,
  {"cost_per_1k": x} or {"total_cost": x, "predictions": n}, against `max_per_1k`.
* `cost_weighted_gate` (fraud mini-challenge): expected misclassification cost per
  prediction, (fp_cost * FP + fn_cost * FN) / n, of the candidate against the baseline
  on the same rows. The interval of the difference (candidate - baseline) comes from the
  exact paired bootstrap of the 8 cells (y_true, candidate decision, baseline decision),
  drawn as Multinomial(n, cells / n) (see performance.py), so it is O(B) at any n.
  Decision (non-inferiority, like the performance gate): the upper bound of the
  difference's two-sided `confidence` interval must be <= max_relative_increase x the
  baseline's expected cost. With the default max_relative_increase = 0 the candidate must
  not be credibly more expensive than the baseline.

Pure: numpy only, no Django, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from governance.gates.stats.explain import fmt, fmt_vs, pct_level
from governance.gates.stats.outcome import GateInputError, GateResult, judged
from governance.gates.stats.params import GateParams, at_least, bootstrap_count, checked, confidence_level, fraction
from governance.gates.stats.performance import (
    bootstrap_cell_counts,
    confusion_dict,
    confusion_from_cells,
    paired_cell_counts,
    z_and_p,
)
from governance.gates.stats.threshold import as_binary, check_same_length, percentile_interval, predictions_from


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GateInputError(f"cost JSON: {name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise GateInputError(f"cost JSON: {name} must be a finite number >= 0, got {value!r}")
    return v


def cost_per_1k(cost: dict[str, Any]) -> tuple[float, int | None]:
    """(cost per 1,000 predictions, number of predictions or None) from the cost JSON."""
    if not isinstance(cost, dict):
        raise GateInputError("cost evidence must be a JSON object")
    if "cost_per_1k" in cost:
        n = cost.get("predictions")
        n_int = int(_number("predictions", n)) if n is not None else None
        return _number("cost_per_1k", cost["cost_per_1k"]), n_int
    if "total_cost" in cost and "predictions" in cost:
        total = _number("total_cost", cost["total_cost"])
        n = _number("predictions", cost["predictions"])
        if n <= 0 or n != int(n):
            raise GateInputError(f"cost JSON: predictions must be a positive integer, got {cost['predictions']!r}")
        return 1000.0 * total / n, int(n)
    raise GateInputError(
        f'cost JSON needs {{"cost_per_1k": x}} or {{"total_cost": x, "predictions": n}}; got keys {sorted(cost)}'
    )


@dataclass(frozen=True, kw_only=True)
class CostParams(GateParams):
    gate = "cost"
    max_per_1k: float = checked(at_least(0, finite=True))


def cost_gate(cost: dict[str, Any], **spec: Any) -> GateResult:
    """Gate `cost`: cost per 1,000 predictions (cost JSON) must be <= `max_per_1k`."""
    limit = CostParams.from_spec(spec).max_per_1k
    value, n = cost_per_1k(cost)
    passed = value <= limit
    v_s, lim_s = fmt_vs(value, limit, 2)
    source = f" ({fmt(float(cost['total_cost']), 2)} for {n} predictions)" if "cost_per_1k" not in cost else ""
    text = f"Cost {v_s} per 1,000 predictions{source} {'is within' if passed else 'exceeds'} the maximum {lim_s}"
    details = {"cost_per_1k": value, "max_per_1k": limit}
    return judged(passed, text, metric="cost_per_1k", value=value, threshold=limit, n=n, details=details)


def expected_cost(y_true: Any, y_pred: Any, *, fp_cost: float, fn_cost: float) -> float:
    """(fp_cost * FP + fn_cost * FN) / n for 0/1 arrays."""
    yt = as_binary("y_true", y_true)
    yp = as_binary("y_pred", y_pred)
    n = check_same_length(y_true=yt, y_pred=yp)
    fp = int(np.count_nonzero((yt == 0) & (yp == 1)))
    fn = int(np.count_nonzero((yt == 1) & (yp == 0)))
    return (fp_cost * fp + fn_cost * fn) / n


@dataclass(frozen=True, kw_only=True)
class CostWeightedParams(GateParams):
    gate = "cost_weighted"
    fp_cost: float = checked(at_least(0, finite=True))
    fn_cost: float = checked(at_least(0, finite=True))
    max_relative_increase: float = checked(at_least(0, finite=True), default=0.0)
    threshold: float = checked(fraction, default=0.5)  # decisions: score >= threshold
    confidence: float = checked(confidence_level, default=0.95)
    bootstrap_samples: int = checked(bootstrap_count, default=1000)
    seed: int = 0


def cost_weighted_gate(
    y_true: Any, y_score: Any, baseline_score: Any = None, *, y_pred: Any = None, **spec: Any
) -> GateResult:
    """Gate `cost_weighted`: expected FP/FN cost per prediction, candidate vs baseline.

    Evidence: predictions `y_true` (0/1), `y_score` (candidate; decisions
    `y_score >= threshold`, or `y_pred` when given) and `baseline_score` (decisions
    `baseline_score >= threshold`). Parameters: `CostWeightedParams`. `value` = the
    increase of the expected cost per prediction (candidate - baseline), `ci_low`/`ci_high`
    its paired bootstrap interval, `threshold` = the allowed increase
    max_relative_increase x baseline cost, `p_value` = two-sided test of no difference
    (bootstrap standard error).
    """
    params = CostWeightedParams.from_spec(spec)
    if baseline_score is None:
        raise GateInputError(
            "cost_weighted compares with the baseline and needs a baseline_score column, but none was given"
        )
    yt = as_binary("y_true", y_true)
    pa = predictions_from(y_score, y_pred, params.threshold)
    pb = predictions_from(baseline_score, None, params.threshold, score_name="baseline_score")
    n = check_same_length(y_true=yt, candidate=pa, baseline_score=pb)

    cells = paired_cell_counts(yt, pa, pb)
    costs = np.array([params.fp_cost, params.fn_cost])

    def per_prediction(c: np.ndarray, model: str) -> np.ndarray:
        _, fp, fn, _ = confusion_from_cells(c, model)
        return (costs[0] * np.asarray(fp) + costs[1] * np.asarray(fn)) / n

    cand = float(per_prediction(cells, "a"))
    base = float(per_prediction(cells, "b"))
    diff = cand - base
    boot = bootstrap_cell_counts(cells, params.bootstrap_samples, np.random.default_rng(params.seed))
    boot_diff = per_prediction(boot, "a") - per_prediction(boot, "b")
    lo, hi = percentile_interval(boot_diff, params.confidence)
    se = float(np.std(boot_diff, ddof=1))
    _, p_value = z_and_p(diff, se)
    allowed = params.max_relative_increase * base
    passed = hi <= allowed

    hi_s, allowed_s = fmt_vs(hi, allowed, 4)
    text = (
        f"Expected cost per prediction {fmt(cand, 4)} vs baseline {fmt(base, 4)} "
        f"(FP {fmt(params.fp_cost, 2)}, FN {fmt(params.fn_cost, 2)}): increase {fmt(diff, 4)}, "
        f"{pct_level(params.confidence)} CI [{fmt(lo, 4)}, {fmt(hi, 4)}], allowed increase "
        f"{allowed_s} ({params.max_relative_increase * 100:g}% of the baseline): upper bound {hi_s} "
        f"{'is within the allowed increase' if passed else 'exceeds it'}"
    )
    details = {
        "candidate": cand,
        "baseline": base,
        "difference": diff,
        "relative_increase": diff / base if base > 0 else None,
        "ci": [lo, hi],
        "allowed_increase": allowed,
        "max_relative_increase": params.max_relative_increase,
        "fp_cost": params.fp_cost,
        "fn_cost": params.fn_cost,
        "threshold": params.threshold if y_pred is None else None,
        "confidence": params.confidence,
        "bootstrap_samples": params.bootstrap_samples,
        "seed": params.seed,
        "se": se,
        "ci_method": "multinomial_cells_bootstrap",
        "confusion_candidate": confusion_dict(cells, "a"),
        "confusion_baseline": confusion_dict(cells, "b"),
    }
    return judged(
        passed,
        text,
        metric="expected_cost_increase",
        value=diff,
        threshold=allowed,
        ci_low=lo,
        ci_high=hi,
        p_value=p_value,
        n=n,
        details=details,
    )
