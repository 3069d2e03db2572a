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
    y, a, b = fraud(2)
    # the noisier model as candidate: more expensive
    res = cost_weighted_gate(y, b, a, fp_cost=5, fn_cost=100, threshold=0.3)
    assert res.value > 0 and not res.passed
    rel = res.ci_high / res.details["baseline"] * (1 + 1e-12)  # absorb rounding of rel*base
    at = cost_weighted_gate(y, b, a, fp_cost=5, fn_cost=100, threshold=0.3, max_relative_increase=rel)
    assert at.passed
    below = cost_weighted_gate(y, b, a, fp_cost=5, fn_cost=100, threshold=0.3, max_relative_increase=rel * 0.999)
    assert not below.passed and "exceeds it → failed" in below.explanation
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
