"""Calibration of the gate decisions at the margin (issue 12): a simulation harness.

For every gate that decides with an interval or a test, draw data whose truth sits
exactly at the policy's threshold, run the real gate function (governance.gates.stats)
many times with fixed seeds, and report:

* pass rate: the share of runs that passed. At the margin the truth does not meet the
  threshold strictly, so every pass is a wrong pass; target <= nominal + 1 point, where
  nominal is the one-sided level (1 - confidence)/2 = 2.5% at the default 95% (for the
  drift test, whose wrong decision is a failure with no drift: its level, 5%);
* inconclusive and failed rates;
* coverage: the share of runs whose reported interval [ci_low, ci_high] contains the true
  value (target: within 1.5 points of the nominal 95%, or above it where the method is
  conservative by construction - order statistics, Bonferroni, Clopper-Pearson - which
  the table says).

Not part of the test suite (it takes minutes); the suite has fast seeded versions of the
defects (tests/gates/stats/test_latency.py, test_fairness.py, test_performance.py,
test_threshold.py, test_cost.py). Run:

    .venv/bin/python bench/calibration.py                # print the table (every group)
    .venv/bin/python bench/calibration.py --write        # and append it to bench/RESULTS.md
    .venv/bin/python bench/calibration.py --reps 500     # quicker, noisier
    .venv/bin/python bench/calibration.py --only performance   # performance, non-inferiority
    .venv/bin/python bench/calibration.py --only superiority drift   # several groups

Groups (--only): issue12 (latency p95, fairness), performance (non-inferiority of auc, ks,
accuracy, precision, recall, f1), superiority (every metric in superiority mode, absolute
and relative; mae and rmse: regression), ctr_regression (non-inferiority of ctr), threshold (every
threshold metric, min and max), error_rate, cost_weighted,
drift, drift_bonferroni, latency_p99, regression (mae and rmse in both modes). Gates
that decide by a fixed rule (cost, robustness, reproducibility,
security, documentation, drift with method psi, point-estimate modes) are not simulated:
bench/RESULTS.md says why.

Monte Carlo standard error of a rate p over R runs: sqrt(p (1 - p) / R) (0.35 point at
2.5% with R = 2,000).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance.gates.stats.cost import cost_weighted_gate  # noqa: E402
from governance.gates.stats.drift import drift_gate  # noqa: E402
from governance.gates.stats.fairness import fairness_gate  # noqa: E402
from governance.gates.stats.latency import error_rate_gate, latency_gate  # noqa: E402
from governance.gates.stats.performance import confusion_from_cells as _confusion  # noqa: E402
from governance.gates.stats.performance import metric_from_counts, performance_gate  # noqa: E402
from governance.gates.stats.threshold import threshold_metric_gate  # noqa: E402

Z95 = 1.6448536269514722  # the 95th percentile of N(0, 1)
NOMINAL_PASS = 0.025
NOMINAL_COVERAGE = 0.95


@dataclass
class Row:
    gate: str
    scenario: str
    n: str
    reps: int
    passed: float
    inconclusive: float
    failed: float
    coverage: float | None
    note: str = ""
    wrong: str = "passed"  # the wrong decision in this scenario: passed at the margin, failed for a fair model
    nominal: float = NOMINAL_PASS  # the nominal rate of the wrong decision (a drift test: its level)

    def verdict(self) -> str:
        ok_pass = (self.passed if self.wrong == "passed" else self.failed) <= self.nominal + 0.01
        if self.coverage is None:
            return "met" if ok_pass else "NOT met"
        ok_cov = self.coverage >= NOMINAL_COVERAGE - 0.015
        if ok_pass and ok_cov:
            return "met" + (" (conservative)" if self.coverage > NOMINAL_COVERAGE + 0.015 else "")
        return "NOT met"


def _rates(statuses: list[str]) -> tuple[float, float, float]:
    r = len(statuses)
    return statuses.count("passed") / r, statuses.count("inconclusive") / r, statuses.count("failed") / r


def _row(gate: str, scenario: str, n: str, reps: int, statuses: list[str], coverage: float | None, *more) -> Row:
    """A table row from the statuses of `reps` runs (`more`: note, wrong decision, nominal rate)."""
    return Row(gate, scenario, n, reps, *_rates(statuses), coverage, *more)


def _interval_row(gate: str, scenario: str, n: str, result: tuple[list[str], float | None, str], note: str = "") -> Row:
    """The row of `result`, the (statuses, coverage, interval method) of one scenario's runs
    (`_runs`, `_performance_runs`); the note follows the method."""
    statuses, coverage, method = result
    return _row(gate, scenario, n, len(statuses), statuses, coverage, method + (f"; {note}" if note else ""))


def latency_rows(reps: int, sizes: list[int]) -> list[Row]:
    """p95 of lognormal(3.5, 0.5) latencies, limit = the true p95; use_upper_confidence_bound."""
    truth = math.exp(3.5 + 0.5 * Z95)
    rows = []
    for n in sizes:
        rng = np.random.default_rng(1000 + n)
        statuses, covered, counted = [], 0, 0
        for _ in range(reps):
            res = latency_gate(rng.lognormal(3.5, 0.5, n), max_ms=truth, use_upper_confidence_bound=True)
            statuses.append(res.status)
            if res.ci_low is not None and res.ci_high is not None:
                counted += 1
                covered += res.ci_low <= truth <= res.ci_high
        cov = covered / counted if counted else None
        note = "upper bound needs n >= 72: inconclusive" if n < 72 else "order statistics: coverage >= nominal"
        rows.append(_row("latency p95 (upper bound)", "true p95 = max_ms", str(n), reps, statuses, cov, note))
    return rows


def _groups(rng: np.random.Generator, sizes: list[int], rates: list[float]) -> tuple[np.ndarray, np.ndarray]:
    g = np.repeat(np.arange(len(sizes)), sizes).astype(str)
    p = (rng.random(g.size) < np.repeat(rates, sizes)).astype(int)
    return g, p


def _fairness_runs(reps, seed, sizes, rates, truth, **spec) -> tuple[list[str], float]:
    rng = np.random.default_rng(seed)
    statuses, covered = [], 0
    for _ in range(reps):
        g, p = _groups(rng, sizes, rates)
        y = rng.integers(0, 2, g.size)
        res = fairness_gate(y, None, {"g": g}, y_pred=p, **spec)
        statuses.append(res.status)
        covered += res.ci_low <= truth <= res.ci_high
    return statuses, covered / reps


def fairness_rows(reps: int, sizes: list[int]) -> list[Row]:
    rows = []
    for n in sizes:  # disparate impact ratio exactly 0.8 between two groups
        st, cov = _fairness_runs(reps, 2000 + n, [n, n], [0.40, 0.32], 0.8, metric="disparate_impact_ratio", min=0.8)
        rows.append(
            _row(
                "fairness disparate_impact_ratio",
                "2 groups, 0.40 vs 0.32 (ratio 0.8 = min)",
                f"2 x {n}",
                reps,
                st,
                cov,
                "log method",
            )
        )
    for n in (50, 500):  # the fair model: 8 groups, all 40%; truth 1.0
        st, cov = _fairness_runs(reps, 3000 + n, [n] * 8, [0.4] * 8, 1.0, metric="disparate_impact_ratio", min=0.8)
        rows.append(
            _row(
                "fairness disparate_impact_ratio",
                "fair: 8 groups, all 0.40 (ratio 1)",
                f"8 x {n}",
                reps,
                st,
                cov,
                "not at the margin: here a failure is the wrong decision; Bonferroni over 28 pairs",
                "failed",
            )
        )
    for n in sizes:  # demographic parity difference exactly 0.1
        st, cov = _fairness_runs(
            reps, 4000 + n, [n, n], [0.40, 0.30], 0.1, metric="demographic_parity_difference", max=0.1
        )
        rows.append(
            _row(
                "fairness demographic_parity_difference",
                "2 groups, 0.40 vs 0.30 (diff 0.1 = max)",
                f"2 x {n}",
                reps,
                st,
                cov,
                "Newcombe",
            )
        )
    return rows


def _tpr_gap_rows(reps: int, sizes: list[int], *, metric: str, truth: str, method: str, seed: int) -> list[Row]:
    """TPR 0.80 vs 0.70 and FPR 0.20 in both groups, half the rows positive: the difference
    is 0.1 = max for equal opportunity and for equalized odds alike."""
    rows = []
    for n in sizes:
        rng = np.random.default_rng(seed + n)
        statuses, covered = [], 0
        for _ in range(reps):
            g = np.repeat(["a", "b"], n)
            y = np.tile([0, 1], n)
            tpr = np.where(g == "a", 0.8, 0.7)
            p = np.where(y == 1, rng.random(2 * n) < tpr, rng.random(2 * n) < 0.2).astype(int)
            res = fairness_gate(y, None, {"g": g}, y_pred=p, metric=metric, max=0.1)
            statuses.append(res.status)
            covered += res.ci_low <= 0.1 <= res.ci_high
        rows.append(_row(f"fairness {metric}", truth, f"2 x {n}", reps, statuses, covered / reps, method))
    return rows


# metric: (truth, interval method, seed)
_TPR_GAPS = {
    "equal_opportunity_difference": ("TPR 0.80 vs 0.70 (diff 0.1 = max)", "Newcombe on TPR", 5000),
    "equalized_odds_difference": (
        "TPR 0.80 vs 0.70, FPR 0.20 both (0.1 = max)",
        "Newcombe, TPR and FPR pairs (K = 2)",
        6000,
    ),
}


def tpr_gap_rows(reps: int, sizes: list[int]) -> list[Row]:
    """Equal opportunity, then equalized odds, on the same TPR gap."""
    rows = []
    for metric, (truth, method, seed) in _TPR_GAPS.items():
        rows += _tpr_gap_rows(reps, sizes, metric=metric, truth=truth, method=method, seed=seed)
    return rows


# 8-cell probabilities of (y, candidate decision, baseline decision), index y*4 + a*2 + b:
# among positives the candidate finds 75%, the baseline 80%; among negatives FPR 15%
_NEG = np.array([0.80, 0.05, 0.05, 0.10])
_POS = np.array([0.15, 0.10, 0.05, 0.70])


def _cell_probs(prevalence: float) -> np.ndarray:
    return np.concatenate([_NEG * (1 - prevalence), _POS * prevalence])


def _performance_runs(reps: int, seed: int, draw, metric: str, truth: float, **spec) -> tuple[list[str], float, str]:
    rng = np.random.default_rng(seed)
    statuses, covered, method = [], 0, ""
    for i in range(reps):
        y, a, b = draw(rng)
        res = performance_gate(y, a, b, metric=metric, max_drop=truth, seed=i, **spec)
        statuses.append(res.status)
        covered += res.ci_low <= truth <= res.ci_high
        method = res.details["ci_method"]
    return statuses, covered / reps, method


def cell_metric_rows(reps: int) -> list[Row]:
    """accuracy, precision, recall, f1: candidate worse than the baseline by exactly the
    margin (max_drop = the true drop), decisions drawn per row from the 8 cells."""
    rows = []
    for metric in ("accuracy", "precision", "recall", "f1"):
        for n, prev in ((400, 0.1), (1000, 0.05), (2000, 0.3)):
            p = _cell_probs(prev)
            truth = float(
                metric_from_counts(metric, *_confusion(p, "b")) - metric_from_counts(metric, *_confusion(p, "a"))
            )
            result = _performance_runs(reps, 7000 + n, _cells_draw(p, n), metric, truth)
            rows.append(
                _interval_row(
                    f"performance {metric} (non-inferiority)",
                    f"drop = max_drop = {truth:.4f}; prevalence {prev:g}",
                    f"{n} (~{round(n * prev)} positives)",
                    result,
                )
            )
    return rows


def auc_rows(reps: int) -> list[Row]:
    """Binormal scores, unit variance: AUC = Phi(mu / sqrt 2); candidate mu 1.0, baseline
    1.2 (correlated noise, rho 0.5); max_drop = the true AUC drop."""
    from scipy.stats import norm

    truth = float(norm.cdf(1.2 / math.sqrt(2)) - norm.cdf(1.0 / math.sqrt(2)))
    rows = []
    for n in (200, 1000, 5000):
        draw = _binormal_draw(n, 0.3, 1.0, 1.2)
        result = _performance_runs(reps, 8000 + n, draw, "auc", truth)
        rows.append(
            _interval_row("performance auc (non-inferiority)", f"drop = max_drop = {truth:.4f}", str(n), result)
        )
    return rows


def _binormal_draw(n: int, prevalence: float, worse_mu: float, better_mu: float, *, swap: bool = False):
    """Scores mu*y + N(0, 1) of two models, noise correlated 0.5, y ~ Bernoulli(prevalence):
    (y, worse, better), or (y, better, worse) with `swap` (the better model is the candidate)."""

    def draw(rng):
        y = (rng.random(n) < prevalence).astype(int)
        e1 = rng.normal(size=n)
        e2 = 0.5 * e1 + math.sqrt(0.75) * rng.normal(size=n)
        worse, better = worse_mu * y + e1, better_mu * y + e2
        return (y, better, worse) if swap else (y, worse, better)

    return draw


def _uniform_mixture(rng, n, weights, edges):
    k = rng.choice(len(weights), size=n, p=weights)
    lo, hi = np.asarray(edges[:-1])[k], np.asarray(edges[1:])[k]
    return lo + (hi - lo) * rng.random(n)


# Scores of one model, uniform mixtures: (negatives' weights, positives' weights, bin edges).
# KS 0.30 or 0.32, its maximum flat on [0.3, 0.7] (plateau) or at 0.5 only (point).
_KS_30_PLATEAU = ([0.4, 0.2, 0.4], [0.1, 0.2, 0.7], [0, 0.3, 0.7, 1])
_KS_32_PLATEAU = ([0.4, 0.2, 0.4], [0.08, 0.2, 0.72], [0, 0.3, 0.7, 1])
_KS_30_POINT = ([0.5, 0.5], [0.2, 0.8], [0, 0.5, 1])
_KS_32_POINT = ([0.5, 0.5], [0.18, 0.82], [0, 0.5, 1])


def _ks_draw(n: int, candidate: tuple, baseline: tuple):
    """Half the rows positive; each model's scores drawn from its mixtures (negatives, then positives)."""

    def draw(rng):
        y = (rng.random(n) < 0.5).astype(int)
        n1 = int(y.sum())
        a, b = np.empty(n), np.empty(n)
        for scores, (negatives, positives, edges) in ((a, candidate), (b, baseline)):
            scores[y == 0] = _uniform_mixture(rng, n - n1, negatives, edges)
            scores[y == 1] = _uniform_mixture(rng, n1, positives, edges)
        return y, a, b

    return draw


def ks_rows(reps: int) -> list[Row]:
    """KS 0.30 (candidate) vs 0.32 (baseline, maximum at one point), max_drop 0.02. The
    candidate's maximum is flat on [0.3, 0.7] (plateau) or at one point (unique)."""
    rows = []
    for plateau in (True, False):
        for n in (1000, 20000):
            draw = _ks_draw(n, _KS_30_PLATEAU if plateau else _KS_30_POINT, _KS_32_POINT)
            result = _performance_runs(reps, 9000 + n + plateau, draw, "ks", 0.02)
            kind = "flat (plateau) candidate maximum" if plateau else "candidate maximum at one point"
            rows.append(
                _interval_row(
                    "performance ks (non-inferiority)",
                    f"KS 0.30 vs 0.32, max_drop 0.02; {kind}",
                    str(n),
                    result,
                    "conservative by construction (worst-case combination of the halves)",
                )
            )
    return rows


def threshold_metric_rows(reps: int) -> list[Row]:
    """recall exactly at `min` 0.8, use_lower_confidence_bound (Clopper-Pearson)."""
    rows = []
    for n_pos in (50, 200, 1000):
        rng = np.random.default_rng(10000 + n_pos)
        statuses, covered = [], 0
        for _ in range(reps):
            y = np.ones(n_pos, dtype=int)
            p = (rng.random(n_pos) < 0.8).astype(int)
            res = threshold_metric_gate(y, y_pred=p, metric="recall", min=0.8, use_lower_confidence_bound=True)
            statuses.append(res.status)
            covered += res.ci_low <= 0.8 <= res.ci_high
        rows.append(
            _row(
                "threshold_metric recall (lower bound)",
                "recall 0.80 = min",
                f"{n_pos} positives",
                reps,
                statuses,
                covered / reps,
                res.details["ci_method"],
            )
        )
    return rows


def performance_rows(reps: int) -> list[Row]:
    return auc_rows(reps) + ks_rows(reps) + cell_metric_rows(reps)


# ======================================================================================
# Rows added for the rest of issue 12's calibration suite: superiority mode, ctr, mae,
# rmse, the other threshold metrics, error_rate, cost_weighted, drift, latency p99
# ======================================================================================


def _runs(reps: int, seed: int, draw, run, truth: float | None) -> tuple[list[str], float | None, str]:
    """Run `run(data, i)` (a gate call) on `reps` draws; (statuses, coverage of `truth`, method)."""
    rng = np.random.default_rng(seed)
    statuses, covered, counted, method = [], 0, 0, ""
    for i in range(reps):
        res = run(draw(rng), i)
        statuses.append(res.status)
        if truth is not None and res.ci_low is not None and res.ci_high is not None:
            counted += 1
            covered += res.ci_low <= truth <= res.ci_high
        method = res.details.get("ci_method", method)
    return statuses, (covered / counted if counted else None), method


def _cells_draw(p: np.ndarray, n: int, *, swap: bool = False):
    """Rows drawn from 8 cells y*4 + a*2 + b; `swap` exchanges candidate and baseline."""

    def draw(rng):
        code = rng.choice(8, size=n, p=p)
        a, b = ((code // 2) % 2).astype(float), (code % 2).astype(float)
        return (code // 4, b, a) if swap else (code // 4, a, b)

    return draw


def _superiority(min_improvement: float | None = None, min_relative_improvement: float | None = None):
    spec = {"mode": "superiority"}
    if min_improvement is not None:
        spec["min_improvement"] = min_improvement
    else:
        spec["min_relative_improvement"] = min_relative_improvement

    def run(data, i, **extra):
        y, a, b = data
        return performance_gate(y, a, b, seed=i, **spec, **extra)

    return run


def superiority_rows(reps: int) -> list[Row]:
    """Superiority mode: the candidate is better than the baseline by exactly the required
    improvement (the non-inferiority scenarios with the two models exchanged)."""
    from scipy.stats import norm

    rows = []
    gain = float(norm.cdf(1.2 / math.sqrt(2)) - norm.cdf(1.0 / math.sqrt(2)))
    for n in (200, 1000, 5000):
        draw = _binormal_draw(n, 0.3, 1.0, 1.2, swap=True)
        run = _superiority(gain)
        result = _runs(reps, 11000 + n, draw, lambda d, i, run=run: run(d, i, metric="auc"), gain)
        rows.append(
            _interval_row("performance auc (superiority)", f"gain = min_improvement = {gain:.4f}", str(n), result)
        )
    for plateau in (True, False):
        for n in (1000, 20000):
            # plateau: candidate KS 0.32 on all of [0.3, 0.7], baseline 0.30 at one point;
            # else candidate 0.32 at one point, baseline 0.30 on a plateau
            if plateau:
                draw = _ks_draw(n, _KS_32_PLATEAU, _KS_30_POINT)
            else:
                draw = _ks_draw(n, _KS_32_POINT, _KS_30_PLATEAU)
            run = _superiority(0.02)
            result = _runs(reps, 12000 + n + plateau, draw, lambda d, i, run=run: run(d, i, metric="ks"), 0.02)
            kind = "flat (plateau) candidate maximum" if plateau else "candidate maximum at one point"
            rows.append(
                _interval_row(
                    "performance ks (superiority)", f"KS 0.32 vs 0.30, min_improvement 0.02; {kind}", str(n), result
                )
            )
    for metric in ("accuracy", "precision", "recall", "f1", "ctr"):
        for n, prev in ((400, 0.1), (1000, 0.05), (2000, 0.3)):
            p = _cell_probs(prev)
            m = "precision" if metric == "ctr" else metric
            gain = float(metric_from_counts(m, *_confusion(p, "b")) - metric_from_counts(m, *_confusion(p, "a")))
            run = _superiority(gain)
            result = _runs(
                reps,
                13000 + n + len(metric),
                _cells_draw(p, n, swap=True),
                lambda d, i, m=metric, run=run: run(d, i, metric=m),
                gain,
            )
            note = "decisions at threshold 0.5: the statistic of precision" if metric == "ctr" else ""
            rows.append(
                _interval_row(
                    f"performance {metric} (superiority)",
                    f"gain = min_improvement = {gain:.4f}; prevalence {prev:g}",
                    f"{n} (~{round(n * prev)} positives)",
                    result,
                    note,
                )
            )
    rows += _ctr_top_rows(reps, superiority=True)  # mae and rmse: the `regression` group
    rows += relative_superiority_rows(reps)
    return rows


def relative_superiority_rows(reps: int) -> list[Row]:
    """Superiority with min_relative_improvement: the required gain is a share of the
    baseline's value, which the gate estimates from the same rows."""
    from scipy.stats import norm

    rows = []
    auc_a, auc_b = float(norm.cdf(1.2 / math.sqrt(2))), float(norm.cdf(1.0 / math.sqrt(2)))
    rel = auc_a / auc_b - 1
    for n in (200, 1000):
        draw = _binormal_draw(n, 0.3, 1.0, 1.2, swap=True)
        run = _superiority(min_relative_improvement=rel)
        result = _runs(reps, 14000 + n, draw, lambda d, i, run=run: run(d, i, metric="auc"), auc_a - auc_b)
        rows.append(
            _interval_row(
                "performance auc (superiority, relative)",
                f"gain = {rel:.2%} of the baseline AUC {auc_b:.3f}",
                str(n),
                result,
            )
        )
    p = _cell_probs(0.1)
    ra, rb = (float(metric_from_counts("recall", *_confusion(p, m))) for m in ("b", "a"))
    for n in (400, 2000):
        run = _superiority(min_relative_improvement=ra / rb - 1)
        result = _runs(
            reps, 14500 + n, _cells_draw(p, n, swap=True), lambda d, i, run=run: run(d, i, metric="recall"), ra - rb
        )
        rows.append(
            _interval_row(
                "performance recall (superiority, relative)",
                f"recall {ra:.2f} vs {rb:.2f}: gain = {ra / rb - 1:.2%} of the baseline",
                f"{n} (~{round(n * 0.1)} positives)",
                result,
            )
        )
    return rows


_SD_WORSE, _RHO = 1.1, 0.8  # regression: candidate error sd 1.1 against 1.0, correlation 0.8


def _regression_draw(n: int, *, swap: bool):
    def draw(rng):
        y = rng.normal(size=n)
        eb = rng.normal(size=n)
        ea = _SD_WORSE * (_RHO * eb + math.sqrt(1 - _RHO**2) * rng.normal(size=n))
        return (y, y + eb, y + ea) if swap else (y, y + ea, y + eb)

    return draw


def _regression_rows(reps: int, *, superiority: bool) -> list[Row]:
    """mae and rmse of normal errors, sd 1.1 (worse) against 1.0, correlation 0.8: the
    worsening is 0.1 sqrt(2/pi) (mae) and 0.1 (rmse). n <= 10,000 uses the paired row
    bootstrap (B = 1,000), larger n the normal approximations."""
    rows = []
    for metric in ("mae", "rmse"):
        truth = (_SD_WORSE - 1) * (math.sqrt(2 / math.pi) if metric == "mae" else 1.0)
        for n in (50, 200, 1000, 20000):
            if superiority:
                run = _superiority(truth)
                call = lambda d, i, m=metric, run=run: run(d, i, metric=m)  # noqa: E731
                mode = "superiority"
            else:
                call = lambda d, i, m=metric, t=truth: performance_gate(*d, metric=m, max_drop=t, seed=i)  # noqa: E731
                mode = "non-inferiority"
            result = _runs(
                reps, 15000 + n + len(metric) + 7 * superiority, _regression_draw(n, swap=superiority), call, truth
            )
            what = "gain = min_improvement" if superiority else "increase = max_drop"
            rows.append(
                _interval_row(
                    f"performance {metric} ({mode})",
                    f"{what} = {truth:.4f}; normal errors sd 1.1 vs 1.0",
                    str(n),
                    result,
                )
            )
    return rows


def _ctr_truth(mu: float, prevalence: float, top: float) -> float:
    """CTR of the top share `top` of scores mu*y + N(0, 1), y ~ Bernoulli(prevalence)."""
    from scipy.optimize import brentq
    from scipy.stats import norm

    shown = lambda q: prevalence * norm.sf(q - mu) + (1 - prevalence) * norm.sf(q) - top  # noqa: E731
    q = brentq(shown, -10, 10)
    return float(prevalence * norm.sf(q - mu) / top)


def _ctr_top_rows(reps: int, *, superiority: bool) -> list[Row]:
    """ctr with top_fraction 0.2 (the shown set is the top 20% of each model's scores);
    clicks y ~ Bernoulli(0.1); scores mu*y + noise, mu 1.0 (worse) and 1.4."""
    lo_mu, hi_mu, prev, top = 1.0, 1.4, 0.1, 0.2
    truth = _ctr_truth(hi_mu, prev, top) - _ctr_truth(lo_mu, prev, top)
    rows = []
    for n in (500, 2000, 10000):
        draw = _binormal_draw(n, prev, lo_mu, hi_mu, swap=superiority)
        if superiority:
            run = _superiority(truth)
            call = lambda d, i, run=run: run(d, i, metric="ctr", top_fraction=top)  # noqa: E731
        else:
            call = lambda d, i: performance_gate(*d, metric="ctr", top_fraction=top, max_drop=truth, seed=i)  # noqa: E731
        result = _runs(reps, 16000 + n + 3 * superiority, draw, call, truth)
        mode = "superiority" if superiority else "non-inferiority"
        rows.append(
            _interval_row(
                f"performance ctr, top_fraction 0.2 ({mode})",
                f"CTR difference {truth:.4f} = the margin; 10% clicks",
                f"{n} (~{round(n * top)} shown)",
                result,
            )
        )
    return rows


def ctr_and_regression_rows(reps: int) -> list[Row]:
    """Non-inferiority rows of ctr (threshold decisions and top_fraction); mae and rmse
    are in the `regression` group (they were here for the first run, see RESULTS.md)."""
    rows = []
    for n, prev in ((400, 0.1), (1000, 0.05), (2000, 0.3)):
        p = _cell_probs(prev)
        truth = float(metric_from_counts("ctr", *_confusion(p, "b")) - metric_from_counts("ctr", *_confusion(p, "a")))
        result = _performance_runs(reps, 17000 + n, _cells_draw(p, n), "ctr", truth)
        rows.append(
            _interval_row(
                "performance ctr (non-inferiority)",
                f"drop = max_drop = {truth:.4f}; prevalence {prev:g}",
                f"{n} (~{round(n * prev)} positives)",
                result,
                "decisions at threshold 0.5: the statistic of precision",
            )
        )
    return rows + _ctr_top_rows(reps, superiority=False)  # mae and rmse: the `regression` group


# (tn, fp, fn, tp) probabilities of the threshold_metric scenarios
_TM_SCENARIOS = [
    # metric, kind, cells, n rows
    ("specificity", "min", (0.76, 0.04, 0.04, 0.16), (200, 2000)),
    ("fpr", "max", (0.76, 0.04, 0.04, 0.16), (200, 2000)),
    ("fnr", "max", (0.76, 0.04, 0.04, 0.16), (200, 2000)),
    ("npv", "min", (0.76, 0.04, 0.04, 0.16), (200, 2000)),
    ("accuracy", "min", (0.70, 0.10, 0.10, 0.10), (100, 1000)),
    ("precision", "min", (0.88, 0.07, 0.02, 0.03), (300, 3000)),
    ("precision", "min", (0.89, 0.09, 0.01, 0.01), (1000, 10000)),
    ("f1", "min", (0.88, 0.07, 0.02, 0.03), (300, 3000)),
]


def _tm_truth(metric: str, c: tuple[float, float, float, float]) -> tuple[float, float]:
    """(metric value, expected share of rows in its denominator) from cell probabilities."""
    tn, fp, fn, tp = c
    num_den = {
        "specificity": (tn, tn + fp),
        "fpr": (fp, tn + fp),
        "fnr": (fn, fn + tp),
        "npv": (tn, tn + fn),
        "accuracy": (tp + tn, 1.0),
        "precision": (tp, tp + fp),
        "f1": (2 * tp, 2 * tp + fp + fn),
    }[metric]
    return num_den[0] / num_den[1], (tp + fp + fn if metric == "f1" else num_den[1])


def more_threshold_metric_rows(reps: int) -> list[Row]:
    """threshold_metric with use_lower_confidence_bound for the other metrics and `max`:
    rows drawn from 4 cells whose metric sits exactly at the limit."""
    rows = []
    for k, (metric, kind, cells, sizes) in enumerate(_TM_SCENARIOS):
        truth, share = _tm_truth(metric, cells)
        for n in sizes:

            def draw(rng, n=n, cells=cells):
                code = rng.choice(4, size=n, p=np.asarray(cells))
                return code // 2, code % 2

            def run(d, i, metric=metric, kind=kind, truth=truth):
                return threshold_metric_gate(
                    d[0], y_pred=d[1], metric=metric, use_lower_confidence_bound=True, **{kind: truth}
                )

            result = _runs(reps, 18000 + 100 * k + n, draw, run, truth)
            bound = "lower bound" if kind == "min" else "upper bound"
            rows.append(
                _interval_row(
                    f"threshold_metric {metric} ({bound})",
                    f"{metric} {truth:.3f} = {kind}",
                    f"{n} rows (~{round(n * share)} in the denominator)",
                    result,
                )
            )
    return rows


def error_rate_rows(reps: int) -> list[Row]:
    """error_rate with use_upper_confidence_bound: the true error rate equals `max`."""
    rows = []
    for rate, sizes in ((0.01, (100, 500, 2000, 10000)), (0.05, (100, 1000)), (0.3, (30, 100))):
        for n in sizes:
            result = _runs(
                reps,
                19000 + n + int(rate * 1000),
                lambda rng, n=n, rate=rate: (rng.random(n) < rate).astype(int),
                lambda e, i, rate=rate: error_rate_gate(e, max=rate, use_upper_confidence_bound=True),
                rate,
            )
            rows.append(_interval_row("error_rate (upper bound)", f"error rate {rate:g} = max", str(n), result))
    return rows


# cost_weighted: 8 cells y*4 + a*2 + b, prevalence 0.05. Among negatives the candidate flags
# 12%, the baseline 10%; among positives the candidate catches 80%, the baseline 76.2%
# (equal cost at FP 1, FN 10) or 80.09% (the candidate 10% more expensive).
_COST_NEG = np.array([0.86, 0.02, 0.04, 0.08])
_COST_POS = {0.0: np.array([0.158, 0.042, 0.08, 0.72]), 0.1: np.array([0.1191, 0.0809, 0.08, 0.72])}


def cost_weighted_rows(reps: int) -> list[Row]:
    """cost_weighted (FP 1, FN 10): the candidate's expected cost per prediction exceeds the
    baseline's by exactly the allowed share (0: equal costs; 10%)."""
    rows = []
    for rel, pos in _COST_POS.items():
        p = np.concatenate([_COST_NEG * 0.95, pos * 0.05])
        cost_a = float(np.dot(p, [0, 0, 1, 1, 10, 10, 0, 0]))
        cost_b = float(np.dot(p, [0, 1, 0, 1, 10, 0, 10, 0]))
        # == rel up to rounding of the cells; at rel 0 the rounding gave -1.1e-16, which the
        # gate rightly refuses as a negative allowance
        allowed = max(0.0, cost_a / cost_b - 1)
        truth = cost_a - cost_b
        for n in (500, 2000, 10000):

            def run(d, i, allowed=allowed):
                y, a, b = d
                return cost_weighted_gate(y, a, b, fp_cost=1, fn_cost=10, max_relative_increase=allowed, seed=i)

            result = _runs(reps, 20000 + n + int(rel * 10), _cells_draw(p, n), run, truth)
            rows.append(
                _interval_row(
                    "cost_weighted (upper bound of the increase)",
                    f"increase = {allowed:.1%} of the baseline cost = max_relative_increase; FP 1, FN 10",
                    f"{n} (~{round(n * 0.05)} positives)",
                    result,
                )
            )
    return rows


def drift_rows(reps: int) -> list[Row]:
    """drift, method ks: no drift at all (reference and current from one distribution), the
    boundary of the test's null hypothesis; a failure is the wrong decision, its nominal
    rate the test's level max_p_value_drift = 0.05. No interval: coverage '-'."""
    rows = []
    kinds = {
        "numeric, continuous (KS)": lambda rng, n: rng.normal(size=n),
        "numeric, 5 values (KS, ties)": lambda rng, n: rng.integers(0, 5, n),
        "categorical, 4 categories (chi-square)": lambda rng, n: rng.choice(
            np.array(list("abcd"), dtype=object), size=n, p=[0.4, 0.3, 0.2, 0.1]
        ),
    }
    for k, (kind, gen) in enumerate(kinds.items()):
        for n in (50, 500, 5000):
            st, _, _ = _runs(
                reps,
                21000 + 10 * k + n,
                lambda rng, n=n, gen=gen: ({"x": gen(rng, n)}, {"x": gen(rng, n)}),
                lambda d, i: drift_gate(d[0], d[1], method="ks"),
                None,
            )
            rows.append(
                _row(
                    "drift (ks), one feature",
                    f"no drift: {kind}",
                    f"{n} + {n}",
                    reps,
                    st,
                    None,
                    "scipy ks_2samp / chi2_contingency",
                    "failed",
                    0.05,
                )
            )
    for n in (500, 5000):
        for adjust in ("holm", "none"):
            st, _, _ = _runs(
                reps,
                21500 + n,
                lambda rng, n=n: tuple({f"x{j}": rng.normal(size=n) for j in range(5)} for _ in range(2)),
                lambda d, i, adjust=adjust: drift_gate(d[0], d[1], method="ks", p_adjust=adjust),
                None,
            )
            note = (
                "Holm's step-down over the 5 features (the default): family-wise level"
                if adjust == "holm"
                else "p_adjust: none, a per-feature level: 1 - 0.95^5 = 22.6% expected; why Holm is the default"
            )
            rows.append(
                _row(
                    f"drift (ks), 5 features, max_drifted_features 0, p_adjust {adjust}",
                    "no drift in any feature",
                    f"{n} + {n}",
                    reps,
                    st,
                    None,
                    note,
                    "failed",
                    0.05,
                )
            )
    return rows


def drift_bonferroni_rows(reps: int) -> list[Row]:
    """The remedy for a family-wise level: 5 features that do not drift, the per-feature
    level set by the policy to 0.05 / 5 = 0.01 (Bonferroni); target: the gate fails <= 5%."""
    st, _, _ = _runs(
        reps,
        21900,
        lambda rng: tuple({f"x{j}": rng.normal(size=5000) for j in range(5)} for _ in range(2)),
        lambda d, i: drift_gate(d[0], d[1], method="ks", max_p_value_drift=0.01, p_adjust="none"),
        None,
    )
    return [
        _row(
            "drift (ks), 5 features, max_drifted_features 0, max_p_value_drift 0.01, p_adjust none",
            "no drift in any feature",
            "5000 + 5000",
            reps,
            st,
            None,
            "Bonferroni set in the policy: family-wise level <= 0.05",
            "failed",
            0.05,
        )
    ]


def latency_p99_rows(reps: int) -> list[Row]:
    """p99 of lognormal(3.5, 0.5) latencies, limit = the true p99 (upper bound needs 368 rows)."""
    z99 = 2.3263478740408408
    truth = math.exp(3.5 + 0.5 * z99)
    rows = []
    for n in (200, 500, 2000, 10000):
        st, cov, _ = _runs(
            reps,
            22000 + n,
            lambda rng, n=n: rng.lognormal(3.5, 0.5, n),
            lambda x, i: latency_gate(x, max_ms=truth, percentile=99, use_upper_confidence_bound=True),
            truth,
        )
        note = "upper bound needs n >= 368: inconclusive" if n < 368 else "order statistics: coverage >= nominal"
        rows.append(_row("latency p99 (upper bound)", "true p99 = max_ms", str(n), reps, st, cov, note))
    return rows


def table(rows: list[Row]) -> str:
    out = [
        "| gate | truth | n | runs | passed | inconclusive | failed | coverage | target | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        cov = f"{r.coverage:.1%}" if r.coverage is not None else "-"
        out.append(
            f"| {r.gate} | {r.scenario} | {r.n} | {r.reps} | {r.passed:.1%} | {r.inconclusive:.1%} | "
            f"{r.failed:.1%} | {cov} | {r.verdict()} | {r.note} |"
        )
    return "\n".join(out)


# --only groups beyond the first two (issue12: latency p95 and fairness; performance:
# non-inferiority of auc, ks, accuracy, precision, recall, f1 and threshold_metric recall)
GROUPS = {
    "superiority": superiority_rows,
    "ctr_regression": ctr_and_regression_rows,
    "threshold": lambda reps: threshold_metric_rows(reps) + more_threshold_metric_rows(reps),
    "error_rate": error_rate_rows,
    "cost_weighted": cost_weighted_rows,
    "drift": drift_rows,
    "latency_p99": latency_p99_rows,
    "drift_bonferroni": drift_bonferroni_rows,
    # mae and rmse in both modes
    "regression": lambda reps: _regression_rows(reps, superiority=False) + _regression_rows(reps, superiority=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--write", action="store_true", help="append the table to bench/RESULTS.md")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("all", "issue12", "performance", *GROUPS),
        default=["all"],
        help="row groups to run (several allowed); 'all' is every group",
    )
    args = parser.parse_args()
    only = set(args.only)
    if "all" in only:
        only = {"issue12", "performance", *GROUPS}
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    rows = []
    if "issue12" in only:
        rows += latency_rows(args.reps, [50, 100, 200, 1000, 5000])
        rows += fairness_rows(args.reps, [50, 200, 1000, 5000])
        rows += tpr_gap_rows(args.reps, [200, 1000, 5000])
    if "performance" in only:
        rows += performance_rows(args.reps)
    for name, make in GROUPS.items():
        if name in only:
            rows += make(args.reps)
    elapsed = time.perf_counter() - started
    text = table(rows)
    print(text)
    print(f"\n{elapsed:.0f} s")
    if args.write:
        import numpy
        import scipy

        machine = (
            f"nproc {os.cpu_count()}, {platform.processor() or platform.machine()}, Python "
            f"{platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}"
        )
        section = (
            f"\n## Gate calibration at the margin ({date.today().isoformat()})\n\n"
            f"Produced by `bench/calibration.py --reps {args.reps}` in {elapsed:.0f} s (see its docstring). "
            f"Machine: {machine}. Confidence 0.95 everywhere: nominal pass rate at the margin 2.5% "
            f"(target <= 3.5%), nominal coverage 95% (target >= 93.5%; above 96.5% is marked conservative). "
            f"Monte Carlo SE of a 2.5% rate over {args.reps} runs: "
            f"{math.sqrt(0.025 * 0.975 / args.reps):.2%}.\n\n{text}\n"
        )
        path = Path(__file__).resolve().parent / "RESULTS.md"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(section)
        print(f"appended to {path}")


if __name__ == "__main__":
    main()
