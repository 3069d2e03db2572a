"""Calibration at the margin (bench/calibration.py): the performance gate's simulations,
non-inferiority (auc, ks, accuracy, precision, recall, f1, ctr) and superiority (absolute
and relative) for every metric, mae and rmse included. Rows and run helpers come from
calibration_gates; bench/calibration.py runs the groups.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calibration_gates import Row, _cells_draw, _interval_row, _runs  # noqa: E402

from governance.gates.stats.performance import confusion_from_cells as _confusion  # noqa: E402
from governance.gates.stats.performance import metric_from_counts, performance_gate  # noqa: E402

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


def performance_rows(reps: int) -> list[Row]:
    return auc_rows(reps) + ks_rows(reps) + cell_metric_rows(reps)


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


def regression_rows(reps: int) -> list[Row]:
    """mae and rmse in both modes: non-inferiority, then superiority."""
    return _regression_rows(reps, superiority=False) + _regression_rows(reps, superiority=True)
