"""Threshold metrics with an exact (Clopper-Pearson) interval, and the input checks shared
by all gates.

`threshold_metric_gate` compares one confusion-matrix proportion (recall, specificity,
precision, npv, accuracy, f1, fpr, fnr) with a fixed limit (`min` or `max`). With
`use_lower_confidence_bound` the comparison uses the Clopper-Pearson interval instead of
the point estimate: its lower bound for `min`, its upper bound for `max`, so a small
sample has to clear the limit with room to spare.

Why Clopper-Pearson, not Wilson (issue 12 calibration): the Wilson score interval's
one-sided errors are uneven away from p = 0.5. With the truth exactly at the limit, a
`min` gate on a proportion below 0.5 (precision 0.1 over ~100 predicted positives, 0.3
over ~30) or a `max` gate on one above 0.5 passed about 4% of the time (exact binomial
sums; nominal 2.5%, target <= 3.5%). The Clopper-Pearson bounds invert the binomial test
itself, so each one-sided error is <= (1 - confidence)/2 for every n and p (conservative
where the binomial is discrete): C. J. Clopper & E. S. Pearson, "The use of confidence or
fiducial limits illustrated in the case of the binomial", Biometrika 26 (1934) 404-413;
A. Agresti & B. A. Coull, "Approximate is better than 'exact' for interval estimation of
binomial proportions", The American Statistician 52 (1998) 119-126 (the price: wider).

This module is the leaf of the package: the other gate modules import its array checks
(`as_numeric`, `as_binary`, `check_same_length`, ...) and intervals; parameter checks
live in `params`, number formatting for explanations in `explain`. Pure: numpy and scipy
only, no Django, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import betaincinv, ndtri

from governance.core.vocabulary import THRESHOLD_METRICS
from governance.gates.stats.explain import fmt, fmt_vs, pct_level
from governance.gates.stats.outcome import GateInputError, GateResult, judged
from governance.gates.stats.params import GateParams, checked, confidence_level, exactly_one, fraction, one_of, optional

# --------------------------------------------------------------------------------------
# Shared array checks
# --------------------------------------------------------------------------------------


def as_numeric(name: str, values: Any) -> np.ndarray:
    """Return `values` as a 1-D float64 array; reject empty, non-numeric, NaN and inf."""
    try:
        arr = np.asarray(values)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise GateInputError(f"{name}: cannot be read as an array ({exc})") from exc
    if arr.ndim != 1:
        raise GateInputError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise GateInputError(f"{name}: is empty")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise GateInputError(f"{name}: must be numeric (got dtype {arr.dtype})") from exc
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise GateInputError(f"{name}: contains {bad} NaN or infinite value(s)")
    return arr


def as_binary(name: str, values: Any) -> np.ndarray:
    """Return `values` as a 1-D int8 array of 0/1; reject anything else (NaN, 2, -1, 0.5)."""
    arr = np.asarray(values)
    if arr.dtype == np.bool_:
        if arr.ndim != 1:
            raise GateInputError(f"{name}: expected a 1-D array, got shape {arr.shape}")
        if arr.size == 0:
            raise GateInputError(f"{name}: is empty")
        return arr.astype(np.int8)
    num = as_numeric(name, arr)
    is_one = num == 1.0
    if not (is_one | (num == 0.0)).all():
        bad = np.unique(num[~(is_one | (num == 0.0))])[:5]
        raise GateInputError(f"{name}: must contain only 0 and 1 (found e.g. {', '.join(fmt(b) for b in bad)})")
    return is_one.astype(np.int8)


def check_same_length(**arrays: np.ndarray | None) -> int:
    """All given (non-None) arrays have the same length; return it."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{k}={n}" for k, n in lengths.items())
        raise GateInputError(f"arrays have different lengths: {listed}")
    return next(iter(lengths.values()))


def z_value(confidence: float) -> float:
    """Two-sided normal quantile: 1.959964 for confidence 0.95."""
    return float(ndtri(0.5 + 0.5 * confidence))


def predictions_from(y_score: Any, y_pred: Any, threshold: float, *, score_name: str = "y_score") -> np.ndarray:
    """The 0/1 decision: `y_pred` when given, else `y_score >= threshold` (the contract)."""
    if y_pred is not None:
        return as_binary("y_pred", y_pred)
    if y_score is None:
        raise GateInputError(f"{score_name} is missing (and no y_pred was given)")
    return (as_numeric(score_name, y_score) >= threshold).astype(np.int8)


# --------------------------------------------------------------------------------------
# Intervals: bootstrap percentile, Wilson, Clopper-Pearson
# --------------------------------------------------------------------------------------


def percentile_interval(boot: np.ndarray, confidence: float) -> tuple[float, float]:
    """Two-sided percentile interval of bootstrap replicates at `confidence`."""
    alpha = 1.0 - confidence
    lo, hi = np.quantile(boot, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Wilson score interval for a binomial proportion (no continuity correction).

    Same formula as `scipy.stats.binomtest(k, n).proportion_ci(method='wilson')`
    (Newcombe 1998): centre (2np + z^2) / (2(n + z^2)), half-width
    z sqrt(4npq + z^2) / (2(n + z^2)); the bound is exactly 0 when k == 0 and exactly 1
    when k == n.
    """
    k = int(successes)
    n = int(n)
    if n <= 0:
        raise GateInputError("Wilson interval needs at least one trial")
    if not (0 <= k <= n):
        raise GateInputError(f"Wilson interval: successes {k} not in 0..{n}")
    z = z_value(confidence)
    p = k / n
    q = 1.0 - p
    denom = 2.0 * (n + z * z)
    center = (2.0 * n * p + z * z) / denom
    delta = z / denom * math.sqrt(4.0 * n * p * q + z * z)
    lo = 0.0 if k == 0 else center - delta
    hi = 1.0 if k == n else center + delta
    return lo, hi


def clopper_pearson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided exact (Clopper-Pearson) interval for a binomial proportion.

    Equals `scipy.stats.binomtest(k, n).proportion_ci(method='exact')`: lower bound the
    (1 - c)/2 quantile of Beta(k, n - k + 1) (0 when k == 0), upper bound the (1 + c)/2
    quantile of Beta(k + 1, n - k) (1 when k == n). Each bound errs with probability at
    most (1 - c)/2 for every n and p.
    """
    k = int(successes)
    n = int(n)
    if n <= 0:
        raise GateInputError("Clopper-Pearson interval needs at least one trial")
    if not (0 <= k <= n):
        raise GateInputError(f"Clopper-Pearson interval: successes {k} not in 0..{n}")
    tail = (1.0 - confidence) / 2.0
    # Beta(a, b).ppf(q) is betaincinv(a, b, q) (what scipy.stats.beta.ppf calls), without
    # loading scipy.stats (~1 s) in every web process that shows declared numbers.
    lo = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, tail))
    hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1.0 - tail))
    return lo, hi


# --------------------------------------------------------------------------------------
# Threshold metrics
# --------------------------------------------------------------------------------------


# metric -> (label in explanations, what the denominator counts)
_LABELS = {
    "recall": ("recall", "positives"),
    "sensitivity": ("sensitivity", "positives"),
    "specificity": ("specificity", "negatives"),
    "precision": ("precision", "predicted positives"),
    "npv": ("negative predictive value", "predicted negatives"),
    "accuracy": ("accuracy", "rows"),
    "f1": ("F1", "rows that are not true negatives"),
    "fpr": ("false positive rate", "negatives"),
    "fnr": ("false negative rate", "positives"),
}


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[int, int, int, int]:
    """(tn, fp, fn, tp) for 0/1 int arrays, in one bincount pass."""
    c = np.bincount(y_true.astype(np.intp) * 2 + y_pred, minlength=4)
    return int(c[0]), int(c[1]), int(c[2]), int(c[3])


def proportion_for(metric: str, tn: int, fp: int, fn: int, tp: int) -> tuple[int, int]:
    """(successes, trials) of the proportion behind `metric`.

    For f1 this is the Jaccard index J = tp / (tp + fp + fn); F1 = 2J / (1 + J) is a
    monotone function of it, so an interval for J maps to an interval for F1.
    """
    if metric in ("recall", "sensitivity"):
        return tp, tp + fn
    if metric == "specificity":
        return tn, tn + fp
    if metric == "precision":
        return tp, tp + fp
    if metric == "npv":
        return tn, tn + fn
    if metric == "accuracy":
        return tp + tn, tn + fp + fn + tp
    if metric == "fpr":
        return fp, fp + tn
    if metric == "fnr":
        return fn, fn + tp
    if metric == "f1":
        return tp, tp + fp + fn
    raise GateInputError(f"unknown threshold metric {metric!r}; expected one of {THRESHOLD_METRICS}")


def _jaccard_to_f1(j: float) -> float:
    return 2.0 * j / (1.0 + j)


@dataclass(frozen=True, kw_only=True)
class ThresholdMetricParams(GateParams):
    """Parameters of the threshold_metric gate: exactly one of `min` / `max`."""

    gate = "threshold_metric"
    metric: str = checked(one_of(THRESHOLD_METRICS, what="threshold metric", lower=True))
    min: float | None = checked(optional(fraction), default=None)
    max: float | None = checked(optional(fraction), default=None)
    use_lower_confidence_bound: bool = False
    confidence: float = checked(confidence_level, default=0.95)
    threshold: float = checked(fraction, default=0.5)  # decisions: y_score >= threshold

    def check_together(self) -> None:
        exactly_one("threshold_metric", min=self.min, max=self.max)

    @property
    def is_min(self) -> bool:
        return self.min is not None

    @property
    def limit(self) -> float:
        return self.min if self.min is not None else self.max


def threshold_metric_gate(y_true: Any, y_score: Any = None, *, y_pred: Any = None, **spec: Any) -> GateResult:
    """Gate `threshold_metric`: one confusion-matrix proportion against a fixed limit.

    Evidence: predictions `y_true` (0/1) and `y_score` (turned into decisions with
    `y_score >= threshold`) or `y_pred` (0/1, used as is when given).

    Parameters (`ThresholdMetricParams`): `metric`, exactly one of `min` / `max` (0..1),
    `use_lower_confidence_bound`, `confidence`, `threshold`. The point estimate is
    compared unless `use_lower_confidence_bound` is true: then the two-sided Clopper-Pearson
    interval at `confidence` is used, its lower bound against `min` and its upper bound
    against `max`. `value` is the point estimate, `ci_low`/`ci_high` the Clopper-Pearson
    interval (conditional on its denominator, e.g. the positives for recall: given it the
    count is binomial) and `n` that denominator. f1 is not a binomial proportion: its
    interval is the Clopper-Pearson interval of the Jaccard index tp / (tp + fp + fn)
    mapped through F1 = 2J / (1 + J) (monotone, so the coverage carries over). No test is
    run, so `p_value` is None.
    """
    params = ThresholdMetricParams.from_spec(spec)
    metric, is_min, limit = params.metric, params.is_min, params.limit

    yt = as_binary("y_true", y_true)
    yp = predictions_from(y_score, y_pred, params.threshold)
    check_same_length(y_true=yt, y_pred=yp)
    tn, fp, fn, tp = confusion_counts(yt, yp)
    k, n = proportion_for(metric, tn, fp, fn, tp)
    label, over = _LABELS[metric]
    if n == 0:
        if metric == "f1":
            raise GateInputError("F1 is undefined: there are no positives and no predicted positives")
        raise GateInputError(f"{label} is undefined: there are no {over} (n = 0)")
    lo, hi = clopper_pearson_interval(k, n, params.confidence)
    value = k / n
    if metric == "f1":
        value, lo, hi = _jaccard_to_f1(value), _jaccard_to_f1(lo), _jaccard_to_f1(hi)
    if params.use_lower_confidence_bound:
        measured = lo if is_min else hi
    else:
        measured = value
    passed = measured >= limit if is_min else measured <= limit

    where = f"at threshold {fmt(params.threshold)}" if y_pred is None else "from y_pred"
    counted = f"{k} of {n} {over}" if metric != "f1" else f"{tp} true positives, {fp + fn} errors"
    m, lim = fmt_vs(measured, limit)
    verb_ok = "meets the minimum" if is_min else "is within the maximum"
    verb_bad = "is below the minimum" if is_min else "exceeds the maximum"
    text = (
        f"{label[0].upper()}{label[1:]} {fmt(value)} ({counted} {where}), "
        f"{pct_level(params.confidence)} Clopper-Pearson interval [{fmt(lo)}, {fmt(hi)}]"
    )
    if params.use_lower_confidence_bound:
        text += f"; {'lower bound' if is_min else 'upper bound'} {m} {verb_ok if passed else verb_bad} {lim}"
    else:
        text += f": {m} {verb_ok if passed else verb_bad} {lim}"
    compared = "point_estimate"
    if params.use_lower_confidence_bound:
        compared = "lower_confidence_bound" if is_min else "upper_confidence_bound"
    details = {
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "successes": k,
        "trials": n,
        "n_rows": int(yt.size),
        "limit_kind": "min" if is_min else "max",
        "compared_value": measured,
        "compared": compared,
        "confidence": params.confidence,
        "ci_method": "clopper_pearson",
        "threshold": params.threshold if y_pred is None else None,
    }
    return judged(
        passed, text, metric=metric, value=value, threshold=limit, ci_low=lo, ci_high=hi, n=n, details=details
    )
