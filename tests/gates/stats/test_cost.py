"""Cost gates (no Django)."""

from __future__ import annotations

import numpy as np
import pytest

from governance.gates.stats.cost import (
    cost_gate,
    cost_per_1k,
    cost_weighted_gate,
    expected_cost,
)
from governance.gates.stats.outcome import GateInputError

TOL = 1e-12


def test_cost_per_1k_forms():
    assert cost_per_1k({"cost_per_1k": 0.4}) == (0.4, None)
    assert cost_per_1k({"total_cost": 12.0, "predictions": 40_000}) == (0.3, 40_000)


def test_cost_gate_decisions():
    assert cost_gate({"cost_per_1k": 0.4}, max_per_1k=0.4).passed
    res = cost_gate({"cost_per_1k": 0.41}, max_per_1k=0.4)
    assert not res.passed and "0.41" in res.explanation and "0.40" in res.explanation
    res = cost_gate({"total_cost": 20, "predictions": 40_000}, max_per_1k=0.4)
    assert not res.passed and res.value == pytest.approx(0.5) and res.n == 40_000
    assert "for 40000 predictions" in res.explanation


@pytest.mark.parametrize(
    "cost",
    [
        {},
        {"total_cost": 1.0},
        {"cost_per_1k": "cheap"},
        {"cost_per_1k": -1},
        {"cost_per_1k": float("nan")},
        {"total_cost": 1.0, "predictions": 0},
        {"total_cost": 1.0, "predictions": 2.5},
        [],
    ],
)
def test_cost_gate_bad_json(cost):
    with pytest.raises(GateInputError):
        cost_gate(cost, max_per_1k=1.0)


def fraud(seed=0, n=20_000):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.05).astype(int)
    latent = rng.normal(size=n) + 2.0 * y
    cand = 1 / (1 + np.exp(-(latent + rng.normal(size=n) * 0.7 - 2.5)))
    base = 1 / (1 + np.exp(-(latent + rng.normal(size=n) * 1.0 - 2.5)))
    return y, cand, base


def test_expected_cost_values():
    y, a, b = fraud()
    res = cost_weighted_gate(y, a, b, fp_cost=5, fn_cost=100, threshold=0.3)
    pa, pb = a >= 0.3, b >= 0.3
    ca = (5 * np.sum((y == 0) & pa) + 100 * np.sum((y == 1) & ~pa)) / y.size
    cb = (5 * np.sum((y == 0) & pb) + 100 * np.sum((y == 1) & ~pb)) / y.size
    assert res.details["candidate"] == pytest.approx(ca, abs=TOL)
    assert res.details["baseline"] == pytest.approx(cb, abs=TOL)
    assert res.value == pytest.approx(ca - cb, abs=TOL)
    assert expected_cost(y, pa, fp_cost=5, fn_cost=100) == pytest.approx(ca, abs=TOL)
    assert res.ci_low <= res.value <= res.ci_high
    assert res.passed == (res.ci_high <= 0)


def test_cost_weighted_bootstrap_se_matches_row_bootstrap():
    """Cells bootstrap vs explicit paired row bootstrap of the cost difference: SEs within
    8% (2,000 replicates each: relative MC error ~1.6% each)."""
    y, a, b = fraud(1, n=5000)
    res = cost_weighted_gate(y, a, b, fp_cost=1, fn_cost=20, bootstrap_samples=2000)
    pa, pb = (a >= 0.5), (b >= 0.5)
    per_row = (1 * ((y == 0) & pa) + 20 * ((y == 1) & ~pa)) - (1 * ((y == 0) & pb) + 20 * ((y == 1) & ~pb))
    rng = np.random.default_rng(9)
    idx = rng.integers(0, y.size, size=(2000, y.size))
    rows_se = per_row[idx].mean(axis=1).std(ddof=1)
    assert res.details["se"] / rows_se == pytest.approx(1.0, abs=0.08)


def test_cost_weighted_decision_at_the_allowed_increase():
    """The decision is the upper bound of the increase against the allowed increase
    (max_relative_increase x the baseline's cost): passes exactly when it is within."""
    y, a, b = fraud(2)
    # the noisier model as candidate: more expensive
    res = cost_weighted_gate(y, b, a, fp_cost=5, fn_cost=100, threshold=0.3)
    assert res.value > 0 and not res.passed and res.threshold == 0
    rel = res.value / res.details["baseline"]  # the observed relative increase: not credibly within
    for r, expected in ((0.0, False), (rel, False), (3 * rel, True)):
        out = cost_weighted_gate(y, b, a, fp_cost=5, fn_cost=100, threshold=0.3, max_relative_increase=r)
        assert out.passed is expected and out.passed == (out.ci_high <= out.threshold)
        assert out.threshold == pytest.approx(r * out.details["baseline"], abs=TOL)
        assert out.ci_low <= out.value <= out.ci_high
    below = cost_weighted_gate(y, b, a, fp_cost=5, fn_cost=100, threshold=0.3, max_relative_increase=rel)
    assert "exceeds it → failed" in below.explanation
    assert f"{res.details['candidate']:.4f}" in res.explanation


def test_cost_weighted_deterministic_and_errors():
    y, a, b = fraud(3, n=2000)
    kw = {"fp_cost": 1, "fn_cost": 10}
    assert cost_weighted_gate(y, a, b, seed=5, **kw) == cost_weighted_gate(y, a, b, seed=5, **kw)
    with pytest.raises(GateInputError, match="baseline_score"):
        cost_weighted_gate(y, a, None, **kw)
    with pytest.raises(GateInputError, match="fp_cost"):
        cost_weighted_gate(y, a, b, fp_cost=-1, fn_cost=1)
    with pytest.raises(GateInputError, match="different lengths"):
        cost_weighted_gate(y[:-1], a, b, **kw)
    with pytest.raises(GateInputError, match="NaN"):
        cost_weighted_gate(y, np.r_[a[:-1], np.nan], b, **kw)
    with pytest.raises(GateInputError, match="only 0 and 1"):
        cost_weighted_gate(y * 2, a, b, **kw)


# ------------------------------------------------ the interval at the margin (issue 12)

# 8 cells y*4 + a*2 + b, prevalence 0.05, FP 1, FN 10: the candidate flags 12% of negatives
# (baseline 10%) and catches 80% of positives (baseline 80.09%): its expected cost is 10.0%
# above the baseline's (bench/calibration.py)
_NEG = np.array([0.86, 0.02, 0.04, 0.08])
_POS = np.array([0.1191, 0.0809, 0.08, 0.72])
_CELLS = np.concatenate([_NEG * 0.95, _POS * 0.05])


def _true_costs() -> tuple[float, float]:
    a = float(_CELLS @ np.array([0, 0, 1, 1, 10, 10, 0, 0]))
    b = float(_CELLS @ np.array([0, 1, 0, 1, 10, 0, 10, 0]))
    return a, b


def test_cost_weighted_at_the_allowed_increase_passes_at_most_nominal():
    """The candidate is exactly max_relative_increase (10%) more expensive, 500 rows (~25
    positives, ~4 discordant ones): a pass is wrong. 400 seeded runs. The percentile
    bootstrap used before passed 7.3% of these runs and covered the increase 90% of the
    time: the bootstrap of a few rare, expensive discordant rows is too narrow, and the
    allowed increase was taken as known. Tango-MOVER passes 2.2% and covers 96.9%
    (bench/calibration.py, 1,000 runs)."""
    cost_a, cost_b = _true_costs()
    rel = cost_a / cost_b - 1
    rng = np.random.default_rng(2026)
    passed = covered = 0
    for i in range(400):
        code = rng.choice(8, size=500, p=_CELLS)
        res = cost_weighted_gate(
            code // 4, (code // 2) % 2, code % 2, fp_cost=1, fn_cost=10, max_relative_increase=rel, seed=i
        )
        passed += res.passed
        covered += res.ci_low <= cost_a - cost_b <= res.ci_high
    assert passed / 400 <= 0.035 and covered / 400 >= 0.935


def _tango_reference(f: int, g: int, n: int, z: float) -> tuple[float, float]:
    """Tango's interval by scipy's root finder on the score statistic (independent of the
    bisection in paired_proportions.py)."""
    from scipy.optimize import brentq

    def score(theta):
        w = -f - g + (2 * n - f + g) * theta
        q = (-w + np.sqrt(w * w + 8.0 * n * g * theta * (1 - theta))) / (4.0 * n)
        return (f - g - n * theta) / np.sqrt(n * (2 * q + theta * (1 - theta)))

    d = (f - g) / n
    return brentq(lambda t: score(t) - z, -1 + 1e-12, d), brentq(lambda t: score(t) + z, d, 1 - 1e-12)


def test_cost_weighted_interval_is_mover_of_tango_and_wilson():
    """Reference: the MOVER combination (Zou & Donner 2008) of the FP and FN differences'
    Tango intervals and the baseline cost's Wilson intervals (scipy), with correlations
    from the multinomial covariance of the cells."""
    from scipy.stats import binomtest, norm

    y, a, b = fraud(4, n=3000)
    fp_cost, fn_cost, rel = 2.0, 30.0, 0.05
    res = cost_weighted_gate(y, a, b, fp_cost=fp_cost, fn_cost=fn_cost, max_relative_increase=rel)
    pa, pb = (a >= 0.5).astype(int), (b >= 0.5).astype(int)
    cells = np.bincount(y * 4 + pa * 2 + pb, minlength=8)
    n = y.size
    z = norm.ppf(0.975)
    comps = []  # (weights over cells, estimate, lower, upper)
    for cost, f, g in ((fp_cost, 2, 1), (fn_cost, 5, 6)):
        lo, hi = _tango_reference(int(cells[f]), int(cells[g]), n, z)
        w = np.zeros(8)
        w[f], w[g] = cost, -cost
        comps.append((w, cost * (cells[f] - cells[g]) / n, cost * lo, cost * hi))
    for cost, idx in ((fp_cost, [1, 3]), (fn_cost, [4, 6])):
        k = int(cells[idx].sum())
        ci = binomtest(k, n).proportion_ci(0.95, method="wilson")
        w = np.zeros(8)
        w[idx] = -rel * cost
        comps.append((w, -rel * cost * k / n, -rel * cost * ci.high, -rel * cost * ci.low))
    W = np.array([c[0] for c in comps])
    est = np.array([c[1] for c in comps])
    cov = (W * (cells / n)) @ W.T - np.outer(est, est)
    r = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    up = np.array([c[3] for c in comps]) - est
    down = est - np.array([c[2] for c in comps])
    allowed = rel * res.details["baseline"]
    assert est.sum() == pytest.approx(res.value - allowed, abs=1e-12)
    assert res.ci_high == pytest.approx(est.sum() + np.sqrt(up @ r @ up) + allowed, abs=1e-7)
    assert res.ci_low == pytest.approx(est.sum() - np.sqrt(down @ r @ down) + allowed, abs=1e-7)
    assert res.details["ci_method"] == "tango_mover"
