"""Latency and error-rate gates on the latency table.

Latency percentile: numpy's default percentile (method="linear": h = (n-1) q/100,
x_(floor h) + frac(h) * (x_(floor h + 1) - x_(floor h)) on the sorted sample). Its
confidence interval is the percentile interval of a seeded bootstrap.

The bootstrap is exact without resampling rows: the sorted values of a resample of n rows
are x_(floor(n U_(k))) where U_(1) < ... < U_(n) are the order statistics of n uniforms,
and the two order statistics the linear percentile needs are drawn directly,
U_(k) ~ Beta(k, n + 1 - k) and U_(k+1) = U_(k) + (1 - U_(k)) Beta(1, n - k) (the minimum
of the n - k uniforms above U_(k)). So `bootstrap_samples` resamples cost O(B) after one
sort, and have exactly the distribution of the row bootstrap.

Error rate: the share of rows with error == 1 and its Wilson score interval.
Pure: numpy and scipy only, no Django, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from governance.gates.stats.explain import fmt, fmt_vs, pct_level
from governance.gates.stats.outcome import GateInputError, GateResult, judged
from governance.gates.stats.params import (
    GateParams,
    at_least,
    between,
    bootstrap_count,
    checked,
    confidence_level,
    fraction,
)
from governance.gates.stats.threshold import as_binary, as_numeric, percentile_interval, wilson_interval

HISTOGRAM_BINS = 50


def bootstrap_percentiles(
    sorted_values: np.ndarray, q: float, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """`n_resamples` bootstrap replicates of np.percentile(x, q) from sorted x (exact
    order-statistic sampling, see the module docstring)."""
    x = sorted_values
    n = x.size
    if n == 1:
        return np.full(n_resamples, float(x[0]))
    h = (n - 1) * (q / 100.0)
    lo = math.floor(h)
    frac = h - lo
    k = lo + 1  # 1-based rank of the lower order statistic
    u_k = rng.beta(k, n + 1 - k, size=n_resamples)
    i_k = np.minimum((u_k * n).astype(np.int64), n - 1)
    if lo >= n - 1:
        return x[i_k].astype(np.float64)
    u_k1 = u_k + (1.0 - u_k) * rng.beta(1, n - k, size=n_resamples)
    i_k1 = np.minimum((u_k1 * n).astype(np.int64), n - 1)
    return x[i_k] + frac * (x[i_k1] - x[i_k])


def percentile_with_ci(
    latency_ms: Any,
    *,
    percentile: float = 95,
    confidence: float = 0.95,
    bootstrap_samples: int = 1000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(value, ci_low, ci_high) of the percentile with its bootstrap percentile interval."""
    x = np.sort(as_numeric("latency_ms", latency_ms))
    return _percentile_with_ci(x, percentile, confidence, bootstrap_samples, seed)


def _percentile_with_ci(
    x_sorted: np.ndarray, q: float, confidence: float, n_resamples: int, seed: int
) -> tuple[float, float, float]:
    value = float(np.percentile(x_sorted, q))
    boot = bootstrap_percentiles(x_sorted, q, n_resamples, np.random.default_rng(seed))
    return (value, *percentile_interval(boot, confidence))


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
    bootstrap_samples: int = checked(bootstrap_count, default=1000)
    seed: int = 0


def latency_gate(latency_ms: Any, **spec: Any) -> GateResult:
    """Gate `latency`: the `percentile` of `latency_ms` (latency table) must be <= max_ms.

    Parameters: `LatencyParams`. With `use_upper_confidence_bound` the upper bound of the bootstrap interval is compared
    instead of the point estimate. `details["histogram"]` has <= 50 equal bins from the
    minimum to the 99.9th percentile (or max_ms if larger, capped at the maximum) and the
    count above them.
    """
    params = LatencyParams.from_spec(spec)
    x = np.sort(as_numeric("latency_ms", latency_ms))
    if x[0] < 0:
        raise GateInputError(f"latency_ms: {int(np.count_nonzero(x < 0))} negative latencies (min {fmt(x[0])})")
    value, lo, hi = _percentile_with_ci(x, params.percentile, params.confidence, params.bootstrap_samples, params.seed)
    measured = hi if params.use_upper_confidence_bound else value
    passed = measured <= params.max_ms

    p_name = f"p{params.percentile:g}"
    text = (
        f"{p_name} latency {fmt(value, 1)} ms over {x.size} requests, "
        f"{pct_level(params.confidence)} CI [{fmt(lo, 1)}, {fmt(hi, 1)}] ms"
    )
    what = "upper bound" if params.use_upper_confidence_bound else p_name
    text += _compared(what, measured, params.max_ms, passed, digits=1, unit=" ms", limit_word="limit")
    p999 = float(np.percentile(x, 99.9))
    upper = min(max(p999, params.max_ms, hi), float(x[-1]))
    details = {
        "percentile": params.percentile,
        "percentile_value": value,
        "compared": "upper_confidence_bound" if params.use_upper_confidence_bound else "point_estimate",
        "compared_value": measured,
        "confidence": params.confidence,
        "bootstrap_samples": params.bootstrap_samples,
        "seed": params.seed,
        "ci_method": "bootstrap_exact_order_statistics",
        "mean": float(x.mean()),
        "max": float(x[-1]),
        "histogram": _histogram(x, upper),
    }
    return judged(
        passed,
        text,
        metric=f"latency_{p_name}_ms",
        value=value,
        threshold=params.max_ms,
        ci_low=lo,
        ci_high=hi,
        n=int(x.size),
        details=details,
    )


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
    Wilson interval) is <= `max`.
    """
    params = ErrorRateParams.from_spec(spec)
    e = as_binary("error", error)
    n = int(e.size)
    k = int(np.count_nonzero(e))
    rate = k / n
    lo, hi = wilson_interval(k, n, params.confidence)
    measured = hi if params.use_upper_confidence_bound else rate
    passed = measured <= params.max

    text = (
        f"Error rate {fmt(rate, 4)} ({k} of {n} requests), {pct_level(params.confidence)} Wilson "
        f"interval [{fmt(lo, 4)}, {fmt(hi, 4)}]"
    )
    what = "upper bound" if params.use_upper_confidence_bound else "rate"
    text += _compared(what, measured, params.max, passed, digits=4, unit="", limit_word="maximum")
    details = {
        "errors": k,
        "compared": "wilson_upper" if params.use_upper_confidence_bound else "point_estimate",
        "compared_value": measured,
        "confidence": params.confidence,
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
