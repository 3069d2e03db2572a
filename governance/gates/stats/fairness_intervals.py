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
# an estimate this close to the threshold sits on it (0.5 - 0.4 is 0.09999999999999998):
# no sample size at the observed rates decides it
_ON_THE_THRESHOLD = 1e-12


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
class AttributeInterval:
    """The interval of one attribute's disparity and what the decision needs from its pairs."""

    low: float
    high: float
    max_stat: float | None = None  # the largest (estimate - limit)/se over the pairs, on each pair's scale
    needed: dict[str, Any] | None = None  # {"rows_per_group", "group" (index), "rows"}; _Pairs._needed
    # rows per compared group (equal sizes) from which the threshold is decidable at the observed
    # rates: every pair's interval clears it (leaning to a pass) or one pair's does (leaning to a
    # failure); None when no size decides it (an estimate exactly on the threshold)
    decidable: int | None = None


@dataclass
class _Pairs:
    """Streams the pairs of one attribute (one row of pairs at a time, vectorised over the
    second group) and keeps only what the outcome needs: O(groups) memory, so an attribute
    with thousands of groups (millions of pairs) stays cheap."""

    is_ratio: bool
    limit: float
    leans_pass: bool
    n_groups: int
    low: float = math.nan
    high: float = math.nan
    max_stat: float = -math.inf
    decide_max: float = -math.inf  # leaning to a pass: the rows every pair needs to be decided
    members: np.ndarray = field(default=None)  # type: ignore[assignment]
    best_need: float = math.inf  # leaning to a failure: the cheapest pair past the limit
    best_pair: tuple[int, int] | None = None
    any_blocking: bool = False

    def __post_init__(self) -> None:
        self.members = np.zeros(self.n_groups, dtype=bool)

    def add(self, a: int, b: np.ndarray, est, low, high, need, stat) -> None:
        if b.size == 0:
            return
        pick = np.min if self.is_ratio else np.max
        self.low = float(pick(low)) if math.isnan(self.low) else float(pick(np.r_[low, self.low]))
        self.high = float(pick(high)) if math.isnan(self.high) else float(pick(np.r_[high, self.high]))
        finite = stat[np.isfinite(stat)]
        if finite.size:
            self.max_stat = max(self.max_stat, float(finite.max()))
        if self.leans_pass:
            self.decide_max = max(self.decide_max, float(need.max()))
            blocking = low < self.limit if self.is_ratio else high > self.limit
            if blocking.any():
                self.any_blocking = True
                self.members[a] = True
                self.members[b[blocking]] = True
        else:
            past = est < self.limit if self.is_ratio else est > self.limit
            if past.any():
                k = int(np.argmin(np.where(past, need, np.inf)))
                if need[k] < self.best_need or self.best_pair is None:
                    self.best_need, self.best_pair = float(need[k]), (a, int(b[k]))

    def result(self, n: np.ndarray) -> AttributeInterval:
        return AttributeInterval(
            self.low,
            self.high,
            self.max_stat if math.isfinite(self.max_stat) else None,
            self._needed(n),
            self._decidable(),
        )

    def _decidable(self) -> int | None:
        need = self.decide_max if self.leans_pass else self.best_need
        return int(math.ceil(need)) if math.isfinite(need) else None

    def _needed(self, n: np.ndarray) -> dict[str, Any] | None:
        if self.leans_pass:
            if not self.any_blocking or not math.isfinite(self.decide_max):
                return None
            # at equal group sizes every pair must be decided, not only the blocking ones
            per_group = int(math.ceil(self.decide_max))
            members = np.flatnonzero(self.members)
        else:
            if self.best_pair is None or not math.isfinite(self.best_need):
                return None
            per_group = int(math.ceil(self.best_need))
            members = np.array(self.best_pair)
        short = int(members[int(np.argmin(n[members]))])
        return {"rows_per_group": per_group, "group": short, "rows": max(0, per_group - int(n[short]))}


def pair_count(groups_per_rate: list[int]) -> int:
    """Comparisons of one attribute: g (g - 1) / 2 per compared rate."""
    return sum(g * (g - 1) // 2 for g in groups_per_rate)


def _leans_pass(is_ratio: bool, estimate: float, limit: float) -> bool:
    return estimate >= limit if is_ratio else estimate <= limit


def ratio_interval(
    x: np.ndarray, n: np.ndarray, idx: np.ndarray, z: float, limit: float, estimate: float
) -> AttributeInterval:
    """Bounds of the smallest selection-rate ratio over the groups `idx` (x selected of n);
    `estimate` is its point estimate (which way an undecided attribute leans)."""
    xs = x[idx].astype(np.float64)
    ns = n[idx].astype(np.float64)
    zero = xs == 0
    xc = np.where(zero, 0.5, xs)
    nc = np.where(zero, ns + 0.5, ns)
    log_r = np.log(xc / nc)
    var = 1.0 / xc - 1.0 / nc
    unit = nc / xc - 1.0  # var(log r) * n
    rate = xs / ns
    target = -math.log(limit) if limit > 0 else math.inf
    acc = _Pairs(True, limit, _leans_pass(True, estimate, limit), int(n.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(idx.size - 1):
            j = slice(i + 1, None)
            d = np.abs(log_r[i] - log_r[j])
            se = np.sqrt(var[i] + var[j])
            top = np.maximum(rate[i], rate[j])
            rho = np.where(top > 0, np.minimum(rate[i], rate[j]) / top, np.nan)
            low = np.exp(-(d + z * se))
            high = np.minimum(1.0, np.exp(-(d - z * se)))
            gap = np.abs(target - d)
            need = np.where(gap > _ON_THE_THRESHOLD, z * z * (unit[i] + unit[j]) / (gap * gap), np.inf)
            stat = np.where(se > 0, (d - target) / se, np.nan)
            acc.add(int(idx[i]), idx[j], rho, low, high, need, stat)
    return acc.result(n)


def difference_interval(
    by_rate: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    rows: np.ndarray,
    z: float,
    limit: float,
    estimate: float,
) -> AttributeInterval:
    """Bounds of the largest |rate difference|; `by_rate`: rate -> (successes, trials, group
    indices compared for that rate); `rows`: each group's rows (the needed rows are counted
    in rows: trials needed / the group's share of trials, e.g. of positives for TPR);
    `estimate`: the point estimate of the largest difference."""
    acc = _Pairs(False, limit, _leans_pass(False, estimate, limit), int(rows.size))
    for x, n, idx in by_rate.values():
        xs = x[idx].astype(np.float64)
        ns = n[idx].astype(np.float64)
        share = ns / rows[idx]
        p = xs / ns
        lo, hi = wilson(xs, ns, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            for i in range(idx.size - 1):
                j = slice(i + 1, None)
                d = p[i] - p[j]
                low_d = d - np.sqrt((p[i] - lo[i]) ** 2 + (hi[j] - p[j]) ** 2)
                high_d = d + np.sqrt((hi[i] - p[i]) ** 2 + (p[j] - lo[j]) ** 2)
                straddles = (low_d <= 0) & (high_d >= 0)
                abs_low = np.where(straddles, 0.0, np.minimum(np.abs(low_d), np.abs(high_d)))
                abs_high = np.maximum(np.abs(low_d), np.abs(high_d))
                gap = np.abs(limit - np.abs(d))
                spread = p[i] * (1 - p[i]) + p[j] * (1 - p[j])
                need = np.where(
                    gap > _ON_THE_THRESHOLD, z * z * spread / (gap * gap) / np.minimum(share[i], share[j]), np.inf
                )
                se = np.sqrt(p[i] * (1 - p[i]) / ns[i] + p[j] * (1 - p[j]) / ns[j])
                stat = np.where(se > 0, (np.abs(d) - limit) / se, np.nan)
                acc.add(int(idx[i]), idx[j], np.abs(d), abs_low, abs_high, need, stat)
    return acc.result(rows)


def decide(interval: AttributeInterval, *, is_ratio: bool, limit: float) -> str:
    if is_ratio:
        return PASSED if interval.low >= limit else FAILED if interval.high < limit else INCONCLUSIVE
    return PASSED if interval.high <= limit else FAILED if interval.low > limit else INCONCLUSIVE


def p_value(intervals: list[AttributeInterval], comparisons: int) -> float | None:
    """Approximate p-value of H0 "the disparity meets the threshold" (every ratio >= min, or
    every |difference| <= max): the smallest one-sided normal p-value over the pairs (log
    ratio with Katz's standard error; difference with the Wald standard error), times the
    number of comparisons (Bonferroni), capped at 1. None when no pair has a spread."""
    stats = [iv.max_stat for iv in intervals if iv.max_stat is not None]
    if not stats:
        return None
    return float(min(1.0, comparisons * norm.sf(max(stats))))
