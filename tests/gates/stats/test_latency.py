"""Latency percentile with bootstrap CI, and the error-rate gate (no Django)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from governance.gates.stats.latency import (
    bootstrap_percentiles,
    error_rate_gate,
    latency_gate,
    percentile_with_ci,
)
from governance.gates.stats.outcome import GateInputError

TOL = 1e-9


def latencies(seed=0, n=2000):
    rng = np.random.default_rng(seed)
    return rng.lognormal(3.5, 0.5, n)


@settings(max_examples=30, deadline=None, database=None)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(1, 500),
    q=st.floats(50, 99.99),
    ties=st.booleans(),
)
def test_percentile_matches_numpy(seed, n, q, ties):
    x = latencies(seed, n)
    if ties:
        x = np.round(x / 10) * 10
    res = latency_gate(x, max_ms=1e9, percentile=q, bootstrap_samples=100)
    assert res.value == pytest.approx(np.percentile(x, q), abs=TOL)
    assert res.ci_low <= res.ci_high


def test_order_statistic_bootstrap_has_the_row_bootstrap_distribution():
    """The exact order-statistic sampler vs resampling rows: 4,000 replicates each of the
    p95 of 500 lognormal latencies. SE and the 2.5/50/97.5% quantiles agree within 6%
    (relative MC error of each SE ~1.1%; quantiles of a discrete bootstrap distribution
    move by one order statistic, ~2-3% here)."""
    x = np.sort(latencies(3, 500))
    fast = bootstrap_percentiles(x, 95, 4000, np.random.default_rng(1))
    rng = np.random.default_rng(2)
    idx = rng.integers(0, x.size, size=(4000, x.size))
    slow = np.percentile(x[idx], 95, axis=1)
    assert fast.std() / slow.std() == pytest.approx(1.0, abs=0.06)
    for q in (2.5, 50, 97.5):
        assert np.percentile(fast, q) == pytest.approx(np.percentile(slow, q), rel=0.06)
    # replicates are always values the linear percentile can take
    assert fast.min() >= x[0] and fast.max() <= x[-1]


def test_bootstrap_edge_cases():
    assert (bootstrap_percentiles(np.array([7.0]), 95, 10, np.random.default_rng(0)) == 7).all()
    same = bootstrap_percentiles(np.full(100, 3.0), 99, 50, np.random.default_rng(0))
    assert (same == 3.0).all()


def test_decisions_at_the_limit():
    x = latencies(1)
    res = latency_gate(x, max_ms=120)
    p95 = np.percentile(x, 95)
    assert latency_gate(x, max_ms=p95).passed
    below = latency_gate(x, max_ms=p95 * (1 - 1e-9))
    assert not below.passed and "exceeds the limit" in below.explanation
    ucb = latency_gate(x, max_ms=p95, use_upper_confidence_bound=True)
    assert not ucb.passed and ucb.details["compared_value"] == ucb.ci_high
    assert latency_gate(x, max_ms=res.ci_high, use_upper_confidence_bound=True).passed
    assert f"{p95:.1f} ms" in res.explanation and "p95 latency" in res.explanation


def test_seeded_and_deterministic():
    x = latencies(2)
    assert latency_gate(x, max_ms=100, seed=1) == latency_gate(x, max_ms=100, seed=1)
    assert latency_gate(x, max_ms=100, seed=1).ci_low != latency_gate(x, max_ms=100, seed=2).ci_low
    v, lo, hi = percentile_with_ci(x, percentile=99, seed=1)
    assert lo <= v <= hi


def test_histogram_is_bounded_and_complete():
    x = np.r_[latencies(4, 100_000), [10_000.0]]  # one huge outlier
    res = latency_gate(x, max_ms=120)
    h = res.details["histogram"]
    assert len(h["counts"]) == 50 and len(h["edges"]) == 51
    assert sum(h["counts"]) + h["overflow"] == x.size
    assert h["overflow"] >= 1 and h["edges"][-1] < 10_000
    assert res.details["percentile_value"] == res.value


@pytest.mark.parametrize(
    "x,kwargs,message",
    [
        ([], {"max_ms": 100}, "empty"),
        ([1.0, np.nan], {"max_ms": 100}, "NaN"),
        ([1.0, -2.0], {"max_ms": 100}, "negative"),
        ([1.0, 2.0], {"max_ms": 0}, "max_ms"),
        ([1.0, 2.0], {"max_ms": 100, "percentile": 40}, "percentile"),
        ([1.0, 2.0], {"max_ms": 100, "bootstrap_samples": 20_000}, "bootstrap_samples"),
    ],
)
def test_latency_bad_inputs(x, kwargs, message):
    with pytest.raises(GateInputError, match=message):
        latency_gate(np.array(x), **kwargs)


# --------------------------------------------------------------- error rate


@settings(max_examples=30, deadline=None, database=None)
@given(n=st.integers(1, 3000), frac=st.floats(0, 1), conf=st.sampled_from([0.9, 0.95, 0.99]))
def test_error_rate_wilson_matches_scipy(n, frac, conf):
    k = int(round(frac * n))
    e = np.r_[np.ones(k), np.zeros(n - k)]
    res = error_rate_gate(e, max=1.0, confidence=conf)
    ref = binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    assert res.value == pytest.approx(k / n, abs=TOL)
    assert (res.ci_low, res.ci_high) == pytest.approx((ref.low, ref.high), abs=TOL)


def test_error_rate_decisions():
    e = np.r_[np.ones(5), np.zeros(995)].astype(bool)  # 0.5%
    assert error_rate_gate(e, max=0.005).passed
    res = error_rate_gate(e, max=0.0049)
    assert not res.passed and "0.0050" in res.explanation and "0.0049" in res.explanation
    ucb = error_rate_gate(e, max=0.005, use_upper_confidence_bound=True)
    assert not ucb.passed and "upper bound" in ucb.explanation
    assert error_rate_gate(e, max=ucb.ci_high, use_upper_confidence_bound=True).passed


def test_error_rate_bad_inputs():
    with pytest.raises(GateInputError, match="only 0 and 1"):
        error_rate_gate([0, 1, 2], max=0.1)
    with pytest.raises(GateInputError, match="empty"):
        error_rate_gate([], max=0.1)
    with pytest.raises(GateInputError, match="max"):
        error_rate_gate([0, 1], max=1.5)
