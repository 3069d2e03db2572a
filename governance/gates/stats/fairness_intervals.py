"""Intervals for fairness disparities, and the decision they support.

A disparity is the worst of the pairwise comparisons of group rates, so its interval is built
from simultaneous intervals of every compared pair (Bonferroni over all pairs of all
evaluated attributes and, for equalized odds, of both rates): with K comparisons each pair's
two-sided interval is at level 1 - (1 - confidence)/K, so the bounds below hold together
with probability >= `confidence` (asymptotically), and each one-sided bound at
(1 + confidence)/2.

* Ratio (disparate impact, min/max selection rate): Katz's log method for the ratio of two
  proportions, log(r_a/r_b) +- z sqrt(1/x_a - 1/n_a + 1/x_b - 1/n_b) (Katz, Baptista, Azen &
  Pike, Biometrics 1978), 0.5 added to a count of zero. Pair ratio rho = exp(-|log r_a -
  log r_b|). Bounds of the smallest ratio: lower = min over pairs of the pair's lower bound,
  upper = min over pairs of the pair's upper bound (capped at 1).
* Difference (demographic parity, equal opportunity, equalized odds): Newcombe's hybrid
  score interval for r_a - r_b (Newcombe, Stat Med 1998, method 10, from Wilson intervals).
  Bounds of the largest |difference|: lower = max over pairs of the pair's lower bound of
  |r_a - r_b| (0 when its interval contains 0), upper = max over pairs of its upper bound.

Decision (`decide`): a ratio passes when its lower bound is >= min and fails when its upper
bound is < min; a difference passes when its upper bound is <= max and fails when its lower
bound is > max; otherwise the interval straddles the threshold and the outcome is
inconclusive, with the rows per group that would decide it at the observed rates.

Pure: numpy and scipy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import norm

PASSED, FAILED, INCONCLUSIVE = "passed", "failed", "inconclusive"


def simultaneous_z(confidence: float, comparisons: int) -> float:
    """The normal quantile of a two-sided interval at 1 - (1 - confidence)/comparisons."""
    return float(norm.ppf(1.0 - (1.0 - confidence) / (2.0 * max(1, comparisons))))


def wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of x/n at normal quantile z (vectorised)."""
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


@dataclass
class Pair:
    a: int  # group indices
    b: int
    rate: str
    estimate: float  # rho (ratio) or |r_a - r_b|
    low: float
    high: float
    rows_per_group: float | None = None  # equal rows per group deciding it at the observed rates
    z_stat: float | None = None  # (estimate - limit) on its scale / standard error; > 0: past the limit


@dataclass
class AttributeInterval:
    low: float
    high: float
    pairs: list[Pair] = field(default_factory=list)


def pair_count(groups_per_rate: list[int]) -> int:
    """Comparisons of one attribute: g (g - 1) / 2 per compared rate."""
    return sum(g * (g - 1) // 2 for g in groups_per_rate)


def ratio_interval(x: np.ndarray, n: np.ndarray, idx: np.ndarray, z: float, limit: float) -> AttributeInterval:
    """Bounds of the smallest selection-rate ratio over the groups `idx` (x selected of n)."""
    xs = x[idx].astype(np.float64)
    ns = n[idx].astype(np.float64)
    zero = xs == 0
    xc = np.where(zero, 0.5, xs)
    nc = np.where(zero, ns + 0.5, ns)
    log_r = np.log(xc / nc)
    var = 1.0 / xc - 1.0 / nc
    unit = (nc / xc) - 1.0  # var(log r) * n
    target = -math.log(limit) if limit > 0 else math.inf
    pairs = []
    for i in range(idx.size):
        for j in range(i + 1, idx.size):
            d = abs(log_r[i] - log_r[j])
            se = math.sqrt(var[i] + var[j])
            r_i, r_j = xs[i] / ns[i], xs[j] / ns[j]
            top = max(r_i, r_j)
            rho = min(r_i, r_j) / top if top > 0 else math.nan
            low = math.exp(-(d + z * se))
            high = min(1.0, math.exp(-(d - z * se)))
            gap = abs(target - d)
            need = z * z * (unit[i] + unit[j]) / (gap * gap) if gap > 0 else None
            stat = (d - target) / se if se > 0 else None
            pairs.append(Pair(int(idx[i]), int(idx[j]), "selection_rate", rho, low, high, need, stat))
    return AttributeInterval(float(min(p.low for p in pairs)), float(min(p.high for p in pairs)), pairs)


def difference_interval(
    by_rate: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], z: float, limit: float
) -> AttributeInterval:
    """Bounds of the largest |rate difference|; `by_rate`: rate -> (successes, trials, group
    indices compared for that rate)."""
    pairs = []
    for rate, (x, n, idx) in by_rate.items():
        xs = x[idx].astype(np.float64)
        ns = n[idx].astype(np.float64)
        p = xs / ns
        lo, hi = wilson(xs, ns, z)
        for i in range(idx.size):
            for j in range(i + 1, idx.size):
                d = p[i] - p[j]
                low_d = d - math.sqrt((p[i] - lo[i]) ** 2 + (hi[j] - p[j]) ** 2)
                high_d = d + math.sqrt((hi[i] - p[i]) ** 2 + (p[j] - lo[j]) ** 2)
                abs_low = 0.0 if low_d <= 0 <= high_d else min(abs(low_d), abs(high_d))
                abs_high = max(abs(low_d), abs(high_d))
                gap = abs(limit - abs(d))
                spread = p[i] * (1 - p[i]) + p[j] * (1 - p[j])
                need = z * z * spread / (gap * gap) if gap > 0 else None
                se = math.sqrt(p[i] * (1 - p[i]) / ns[i] + p[j] * (1 - p[j]) / ns[j])
                stat = (abs(d) - limit) / se if se > 0 else None
                pairs.append(Pair(int(idx[i]), int(idx[j]), rate, abs(d), abs_low, abs_high, need, stat))
    return AttributeInterval(float(max(p.low for p in pairs)), float(max(p.high for p in pairs)), pairs)


def decide(interval: AttributeInterval, *, is_ratio: bool, limit: float) -> str:
    if is_ratio:
        return PASSED if interval.low >= limit else FAILED if interval.high < limit else INCONCLUSIVE
    return PASSED if interval.high <= limit else FAILED if interval.low > limit else INCONCLUSIVE


def blocking_pairs(interval: AttributeInterval, *, is_ratio: bool, limit: float, estimate: float) -> list[Pair]:
    """The pairs whose intervals keep an inconclusive attribute undecided, in the direction its
    point estimate leans: toward a pass, every pair whose interval still reaches past the
    limit; toward a failure, the pairs whose estimate is past the limit (one of them, decided,
    would fail the gate)."""
    if is_ratio:
        if estimate >= limit:
            return [p for p in interval.pairs if p.low < limit]
        return [p for p in interval.pairs if p.estimate < limit]
    if estimate <= limit:
        return [p for p in interval.pairs if p.high > limit]
    return [p for p in interval.pairs if p.estimate > limit]


def rows_needed(
    interval: AttributeInterval, *, is_ratio: bool, limit: float, estimate: float, n: np.ndarray
) -> dict[str, Any] | None:
    """{"rows_per_group", "group" (index), "rows" (more rows in that group)} at the observed
    rates, or None when no sample size decides it (an estimate exactly at the limit)."""
    pairs = blocking_pairs(interval, is_ratio=is_ratio, limit=limit, estimate=estimate)
    needs = [p.rows_per_group for p in pairs]
    if not pairs or any(v is None for v in needs):
        return None
    leans_pass = estimate >= limit if is_ratio else estimate <= limit
    if leans_pass:  # every blocking pair must be decided
        per_group = max(needs)
        members = {g for p in pairs for g in (p.a, p.b)}
    else:  # one pair decided is enough: the cheapest
        best = min(pairs, key=lambda p: p.rows_per_group)
        per_group = best.rows_per_group
        members = {best.a, best.b}
    per_group = int(math.ceil(per_group))
    short = max(members, key=lambda g: per_group - int(n[g]))
    return {"rows_per_group": per_group, "group": short, "rows": max(0, per_group - int(n[short]))}


def p_value(intervals: list[AttributeInterval], comparisons: int) -> float | None:
    """Approximate p-value of H0 "the disparity meets the threshold" (every ratio >= min, or
    every |difference| <= max): the smallest one-sided normal p-value over the pairs (log
    ratio with Katz's standard error; difference with the Wald standard error), times the
    number of comparisons (Bonferroni), capped at 1. None when no pair has a spread."""
    stats = [p.z_stat for iv in intervals for p in iv.pairs if p.z_stat is not None]
    if not stats:
        return None
    return float(min(1.0, comparisons * norm.sf(max(stats))))
