"""Latency and error-rate gates on the latency table.

Latency percentile: numpy's default percentile (method="linear": h = (n-1) q/100,
x_(floor h) + frac(h) * (x_(floor h + 1) - x_(floor h)) on the sorted sample).

Its confidence interval is distribution-free (order statistics with binomial coverage; e.g.
Hahn & Meeker, Statistical Intervals, 1991, sec. 5.2; Conover, Practical Nonparametric
Statistics, 3rd ed., sec. 3.2). With p = q/100, a = (1 - confidence)/2 and B ~ Bin(n, p),
the upper bound is the order statistic x_(u), u the smallest rank with P(B <= u - 1) >= 1 - a,
so P(x_(u) >= true quantile) >= 1 - a for every distribution; the lower bound is x_(l), l the
largest rank with P(B >= l) >= 1 - a. The upper bound exists only when p^n <= a, i.e. from
n = ceil(log a / log p) rows (72 for the p95 at 95%): below that, a gate that compares the
upper bound is `inconclusive`, never passed. (The bootstrap percentile interval used before
can never exceed the sample maximum, so at small n it passed 12% of the time at the margin
instead of 2.5%.)

Error rate: the share of rows with error == 1 and its exact (Clopper-Pearson) interval
(threshold.py says why not Wilson: its one-sided errors are uneven away from p = 0.5).
Pure: numpy and scipy only, no Django, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import binom

from governance.gates.stats.explain import fmt, fmt_vs, pct_level
from governance.gates.stats.outcome import GateInputError, GateResult, judged, undecided
from governance.gates.stats.params import (
    GateParams,
    at_least,
    between,
    bootstrap_count,
    checked,
    confidence_level,
    fraction,
)
from governance.gates.stats.threshold import as_binary, as_numeric, clopper_pearson_interval

HISTOGRAM_BINS = 50


def quantile_ranks(n: int, p: float, alpha: float) -> tuple[int | None, int | None]:
    """(l, u): 1-based ranks of the distribution-free one-sided (1 - alpha) lower and upper
    confidence bounds of the p-quantile from n rows (None where the bound does not exist):
    u the smallest rank with P(Bin(n, p) <= u - 1) >= 1 - alpha, l the largest rank with
    P(Bin(n, p) >= l) >= 1 - alpha."""
    cdf = binom.cdf
    j = int(binom.ppf(1 - alpha, n, p))  # smallest j with cdf(j) >= 1 - alpha (give or take rounding)
    while j > 0 and cdf(j - 1, n, p) >= 1 - alpha:
        j -= 1
    while cdf(j, n, p) < 1 - alpha:
        j += 1
    upper = j + 1 if j + 1 <= n else None
    i = int(binom.ppf(alpha, n, p))  # largest i with cdf(i) <= alpha, then l = i + 1
    while i >= 0 and cdf(i, n, p) > alpha:
        i -= 1
    while i + 1 < n and cdf(i + 1, n, p) <= alpha:
        i += 1
    lower = i + 1 if i >= 0 else None
    return lower, upper


def min_rows_for_upper_bound(p: float, alpha: float) -> int:
    """The smallest n at which the upper bound of the p-quantile exists: p^n <= alpha."""
    n = max(1, math.ceil(math.log(alpha) / math.log(p)))
    while p**n > alpha:  # rounding of the logarithms
        n += 1
    while n > 1 and p ** (n - 1) <= alpha:
        n -= 1
    return n


def percentile_with_ci(
    latency_ms: Any, *, percentile: float = 95, confidence: float = 0.95
) -> tuple[float, float | None, float | None]:
    """(value, ci_low, ci_high): the percentile and its distribution-free two-sided
    `confidence` interval (None for a bound that does not exist at this n)."""
    x = np.sort(as_numeric("latency_ms", latency_ms))
    return _percentile_with_ci(x, percentile, confidence)


def _percentile_with_ci(x_sorted: np.ndarray, q: float, confidence: float) -> tuple[float, float | None, float | None]:
    value = float(np.percentile(x_sorted, q))
    lower, upper = quantile_ranks(int(x_sorted.size), q / 100.0, (1.0 - confidence) / 2.0)
    lo = float(x_sorted[lower - 1]) if lower is not None else None
    hi = float(x_sorted[upper - 1]) if upper is not None else None
    return value, lo, hi


def _histogram(x_sorted: np.ndarray, upper: float) -> dict[str, Any]:
    lo = float(x_sorted[0])
    hi = float(upper)
    if hi <= lo:
        hi = float(x_sorted[-1]) if x_sorted[-1] > lo else lo + 1.0
    counts, edges = np.histogram(x_sorted, bins=HISTOGRAM_BINS, range=(lo, hi))
    overflow = int(x_sorted.size - np.searchsorted(x_sorted, hi, side="right"))
    return {
        "edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
        "overflow": overflow,
        "overflow_from": hi,
    }


@dataclass(frozen=True, kw_only=True)
class LatencyParams(GateParams):
    gate = "latency"
    max_ms: float = checked(at_least(0, finite=True, strict=True))
    percentile: float = checked(between(50, 99.99), default=95)
    confidence: float = checked(confidence_level, default=0.95)
    use_upper_confidence_bound: bool = False
    # Accepted for policies written when the interval was a bootstrap; no longer used.
    bootstrap_samples: int = checked(bootstrap_count, default=1000)
    seed: int = 0


def latency_gate(latency_ms: Any, **spec: Any) -> GateResult:
    """Gate `latency`: the `percentile` of `latency_ms` (latency table) must be <= max_ms.

    Parameters: `LatencyParams`. With `use_upper_confidence_bound` the distribution-free
    upper confidence bound (one-sided (1 + confidence)/2, see the module docstring) is
    compared instead of the point estimate; below the rows that bound needs the gate is
    `inconclusive` (details.needed). `details["histogram"]` has <= 50 equal bins from the
    minimum to the 99.9th percentile (or max_ms if larger, capped at the maximum) and the
    count above them.
    """
    params = LatencyParams.from_spec(spec)
    x = np.sort(as_numeric("latency_ms", latency_ms))
    if x[0] < 0:
        raise GateInputError(f"latency_ms: {int(np.count_nonzero(x < 0))} negative latencies (min {fmt(x[0])})")
    value, lo, hi = _percentile_with_ci(x, params.percentile, params.confidence)
    ucb = params.use_upper_confidence_bound
    measured = hi if ucb else value

    p_name = f"p{params.percentile:g}"
    text = (
        f"{p_name} latency {fmt(value, 1)} ms over {x.size} requests, distribution-free "
        f"{pct_level(params.confidence)} CI [{fmt(lo, 1)}, {fmt(hi, 1)}] ms"
    )
    p999 = float(np.percentile(x, 99.9))
    upper = min(max(p999, params.max_ms, hi if hi is not None else p999), float(x[-1]))
    details = {
        "percentile": params.percentile,
        "percentile_value": value,
        "compared": "upper_confidence_bound" if ucb else "point_estimate",
        "compared_value": measured,
        "confidence": params.confidence,
        "one_sided_level": (1 + params.confidence) / 2,
        "ci_method": "order_statistics_binomial",
        "mean": float(x.mean()),
        "max": float(x[-1]),
        "histogram": _histogram(x, upper),
    }
    result = {
        "metric": f"latency_{p_name}_ms",
        "value": value,
        "threshold": params.max_ms,
        "ci_low": lo,
        "ci_high": hi,
        "n": int(x.size),
        "details": details,
    }
    if measured is None:  # the upper bound needs more rows than there are
        need = min_rows_for_upper_bound(params.percentile / 100.0, (1 - params.confidence) / 2)
        more = need - int(x.size)
        text += (
            f"; the upper bound of the {p_name} at {pct_level((1 + params.confidence) / 2)} (one-sided) "
            f"exists only from {need} requests: {more} more are needed to decide"
        )
        needed = {"rows": more, "total_rows": need, "text": f"at least {need} latency rows ({more} more)"}
        return undecided(text, needed, **result)
    passed = measured <= params.max_ms
    what = "upper bound" if ucb else p_name
    text += _compared(what, measured, params.max_ms, passed, digits=1, unit=" ms", limit_word="limit")
    return judged(passed, text, **result)


@dataclass(frozen=True, kw_only=True)
class ErrorRateParams(GateParams):
    gate = "error_rate"
    max: float = checked(fraction)
    use_upper_confidence_bound: bool = False
    confidence: float = checked(confidence_level, default=0.95)


def error_rate_gate(error: Any, **spec: Any) -> GateResult:
    """Gate `error_rate`: share of rows with `error` == 1 (latency table column, 0/1).

    Parameters (`ErrorRateParams`): `max`, `use_upper_confidence_bound`, `confidence`.
    Passes when the rate (or, with `use_upper_confidence_bound`, the upper bound of its
    two-sided Clopper-Pearson interval at `confidence`) is <= `max`.
    """
    params = ErrorRateParams.from_spec(spec)
    e = as_binary("error", error)
    n = int(e.size)
    k = int(np.count_nonzero(e))
    rate = k / n
    lo, hi = clopper_pearson_interval(k, n, params.confidence)
    measured = hi if params.use_upper_confidence_bound else rate
    passed = measured <= params.max

    text = (
        f"Error rate {fmt(rate, 4)} ({k} of {n} requests), {pct_level(params.confidence)} Clopper-Pearson "
        f"interval [{fmt(lo, 4)}, {fmt(hi, 4)}]"
    )
    what = "upper bound" if params.use_upper_confidence_bound else "rate"
    text += _compared(what, measured, params.max, passed, digits=4, unit="", limit_word="maximum")
    details = {
        "errors": k,
        "compared": "upper_confidence_bound" if params.use_upper_confidence_bound else "point_estimate",
        "compared_value": measured,
        "confidence": params.confidence,
        "ci_method": "clopper_pearson",
    }
    return judged(
        passed, text, metric="error_rate", value=rate, threshold=params.max, ci_low=lo, ci_high=hi, n=n, details=details
    )


def _compared(
    what: str, measured: float, limit: float, passed: bool, *, digits: int, unit: str, limit_word: str
) -> str:
    """'; p95 120.0 ms is within the limit 200.0 ms' (or 'exceeds')."""
    m_s, lim_s = fmt_vs(measured, limit, digits)
    return f"; {what} {m_s}{unit} {'is within' if passed else 'exceeds'} the {limit_word} {lim_s}{unit}"
