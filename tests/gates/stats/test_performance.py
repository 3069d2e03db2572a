"""Performance gate statistics against sklearn/scipy and DeLong against O(n^2) (no Django)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp, rankdata
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

from governance.gates.stats import performance as perf
from governance.gates.stats.outcome import GateInputError
from governance.gates.stats.paired_proportions import tango_interval, tango_z
from governance.gates.stats.performance import (
    bootstrap_cell_counts,
    confusion_from_cells,
    ctr,
    delong_components,
    delong_paired_test,
    ks_statistic,
    mae,
    metric_from_counts,
    paired_cell_counts,
    performance_gate,
    rmse,
    roc_auc,
)
from governance.gates.stats.performance_ks import ks_with_cut, stratified_halves

TOL = 1e-9


def simulate(seed: int, n: int = 1000, prevalence: float = 0.3, ties: int | None = None):
    """Binary labels with two correlated scores; `ties` rounds scores to that many
    decimals (heavy ties)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(np.int8)
    latent = rng.normal(size=n) + 1.0 * y
    a = 1 / (1 + np.exp(-(latent + rng.normal(size=n) * 0.8)))
    b = 1 / (1 + np.exp(-(latent + rng.normal(size=n) * 1.0)))
    if ties is not None:
        a, b = np.round(a, ties), np.round(b, ties)
    return y, a, b


# ================================================================ AUC and DeLong


def delong_reference(y, s):
    """Direct O(n^2) structural components (DeLong, DeLong & Clarke-Pearson 1988)."""
    x = s[y == 1]
    z = s[y == 0]
    psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
    return psi.mean(), psi.mean(axis=1), psi.mean(axis=0)


def delong_reference_var_diff(y, a, b):
    _, a10, a01 = delong_reference(y, a)
    _, b10, b01 = delong_reference(y, b)
    m, k = len(a10), len(a01)
    s10 = np.cov(np.vstack([a10, b10]))
    s01 = np.cov(np.vstack([a01, b01]))
    lvec = np.array([1.0, -1.0])
    return float(lvec @ (s10 / m + s01 / k) @ lvec), s10, s01


@pytest.mark.parametrize("ties", [None, 2, 1, 0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_delong_components_match_quadratic_reference(seed, ties):
    y, a, b = simulate(seed, n=300, ties=ties)
    auc, v10, v01 = delong_components(y, a)
    ref_auc, ref10, ref01 = delong_reference(y, a)
    assert auc == pytest.approx(ref_auc, abs=1e-12)
    np.testing.assert_allclose(v10, ref10, rtol=0, atol=1e-12)
    np.testing.assert_allclose(v01, ref01, rtol=0, atol=1e-12)
    d = delong_paired_test(y, a, b)
    var_ref, s10, s01 = delong_reference_var_diff(y, a, b)
    assert d.se**2 == pytest.approx(var_ref, abs=1e-12)
    m, k = int(y.sum()), int((1 - y).sum())
    assert d.var_a == pytest.approx(s10[0, 0] / m + s01[0, 0] / k, abs=1e-12)
    assert d.cov_ab == pytest.approx(s10[0, 1] / m + s01[0, 1] / k, abs=1e-12)
    z = d.diff / d.se
    assert d.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), abs=1e-12)


def test_delong_textbook_tiny_example():
    # 3 positives, 3 negatives; psi matrix worked by hand:
    # x = [0.9, 0.6, 0.4], z = [0.5, 0.4, 0.1] -> rows [1,1,1], [1,1,1], [0,.5,1]
    y = np.array([1, 1, 1, 0, 0, 0])
    s = np.array([0.9, 0.6, 0.4, 0.5, 0.4, 0.1])
    auc, v10, v01 = delong_components(y, s)
    assert auc == pytest.approx(7.5 / 9, abs=1e-15)
    np.testing.assert_allclose(v10, [1, 1, 0.5], atol=1e-15)
    np.testing.assert_allclose(v01, [2 / 3, 2.5 / 3, 1], atol=1e-15)


@settings(max_examples=40, deadline=None, database=None)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(4, 400),
    levels=st.sampled_from([2, 3, 5, 20, 10_000]),
)
def test_auc_matches_sklearn_with_ties(seed, n, levels):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    s = rng.integers(0, levels, n) / levels + 0.1 * y * rng.random(n)
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=TOL)


def test_delong_se_agrees_with_paired_bootstrap_se():
    """DeLong's SE of the paired AUC difference vs the SE of 2,000 paired bootstrap
    resamples (n = 1,000, 30% positives, correlated scores).

    Tolerance 6%: the bootstrap SE from B resamples has relative Monte Carlo error about
    1/sqrt(2(B-1)) = 1.6% for B = 2,000; DeLong's variance and the bootstrap variance
    differ only by O(1/n) terms (the bootstrap uses 1/m instead of 1/(m-1), i.e. < 0.2%
    here). Over 20 seeds the ratio had mean 1.000 and sd 0.016, so 6% is ~4 Monte Carlo
    standard deviations: a wrong variance formula (e.g. forgetting the covariance term,
    which is about half the variance here) fails by far more.
    """
    y, a, b = simulate(7, n=1000)
    d = delong_paired_test(y, a, b)
    rng = np.random.default_rng(123)
    n, n_boot = len(y), 2000
    idx = rng.integers(0, n, size=(n_boot, n))
    yy = y[idx].astype(float)
    npos = yy.sum(axis=1)
    nneg = n - npos
    aucs = []
    for s in (a, b):
        r = rankdata(s[idx], axis=1)
        aucs.append(((r * yy).sum(axis=1) - npos * (npos + 1) / 2) / (npos * nneg))
    boot_se = float(np.std(aucs[0] - aucs[1], ddof=1))
    assert boot_se / d.se == pytest.approx(1.0, abs=0.06)
    # and ignoring the correlation would be badly wrong
    assert math.sqrt(d.var_a + d.var_b) / d.se > 1.2


def test_auc_needs_both_classes():
    with pytest.raises(GateInputError, match="both classes"):
        roc_auc([1, 1, 1], [0.2, 0.3, 0.4])
    with pytest.raises(GateInputError, match="both classes"):
        performance_gate([0, 0, 0], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], metric="auc")
    with pytest.raises(GateInputError, match="at least 2 positives"):
        performance_gate([1, 0, 0], [0.9, 0.2, 0.3], [0.8, 0.2, 0.3], metric="auc")


# ====================================================================== KS


@settings(max_examples=40, deadline=None, database=None)
@given(
    seed=st.integers(0, 100_000),
    n=st.integers(4, 500),
    ties=st.sampled_from([None, 1, 0]),
)
def test_ks_matches_scipy(seed, n, ties):
    y, a, _ = simulate(seed, n=n, ties=ties)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    ref = ks_2samp(a[y == 1], a[y == 0]).statistic
    assert ks_statistic(y, a) == pytest.approx(ref, abs=TOL)


# =========================================================== counts metrics


@settings(max_examples=40, deadline=None, database=None)
@given(seed=st.integers(0, 100_000), threshold=st.floats(0.05, 0.95))
def test_counts_metrics_match_sklearn(seed, threshold):
    y, a, b = simulate(seed, n=300)
    pa = (a >= threshold).astype(np.int8)
    pb = (b >= threshold).astype(np.int8)
    cells = paired_cell_counts(y, pa, pb)
    for model, pred in (("a", pa), ("b", pb)):
        counts = confusion_from_cells(cells, model)
        refs = {
            "accuracy": accuracy_score(y, pred),
            "precision": precision_score(y, pred, zero_division=0),
            "recall": recall_score(y, pred, zero_division=0),
            "f1": f1_score(y, pred, zero_division=0),
        }
        for metric, ref in refs.items():
            assert float(metric_from_counts(metric, *counts)) == pytest.approx(ref, abs=TOL)


def test_zero_division_is_zero_like_sklearn():
    y = np.array([1, 0, 1, 0])
    pred = np.zeros(4, dtype=np.int8)
    cells = paired_cell_counts(y, pred, pred)
    counts = confusion_from_cells(cells, "a")
    assert float(metric_from_counts("precision", *counts)) == 0.0
    assert precision_score(y, pred, zero_division=0) == 0.0
    assert float(metric_from_counts("f1", *counts)) == f1_score(y, pred, zero_division=0)


def ctr_reference(y, s, threshold=0.5, top_fraction=None):
    if top_fraction is None:
        shown = [i for i in range(len(s)) if s[i] >= threshold]
    else:
        k = max(1, math.ceil(top_fraction * len(s) - 1e-9))
        kth = sorted(s, reverse=True)[k - 1]
        shown = [i for i in range(len(s)) if s[i] >= kth]
    return sum(y[i] for i in shown) / len(shown) if shown else 0.0


@settings(max_examples=40, deadline=None, database=None)
@given(
    seed=st.integers(0, 100_000),
    top=st.one_of(st.none(), st.floats(0.01, 1.0)),
    ties=st.sampled_from([None, 1]),
)
def test_ctr_matches_definition(seed, top, ties):
    y, a, _ = simulate(seed, n=200, ties=ties)
    assert ctr(y, a, threshold=0.6, top_fraction=top) == pytest.approx(
        ctr_reference(list(y), list(a), 0.6, top), abs=TOL
    )


def test_ctr_top_fraction_includes_ties_at_the_cut():
    y = np.array([1, 0, 0, 1, 0])
    s = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    # top 40% = 2 rows; the 2nd highest score 0.5 is tied three times -> 4 rows shown
    assert ctr(y, s, top_fraction=0.4) == 0.5


@settings(max_examples=30, deadline=None, database=None)
@given(seed=st.integers(0, 100_000), n=st.integers(1, 300))
def test_regression_errors_match_sklearn(seed, n):
    rng = np.random.default_rng(seed)
    t = rng.normal(size=n) * 10
    p = t + rng.standard_t(3, size=n)
    assert mae(t, p) == pytest.approx(mean_absolute_error(t, p), abs=TOL)
    assert rmse(t, p) == pytest.approx(root_mean_squared_error(t, p), abs=TOL)


# ================================================== bootstrap machinery


def test_cell_bootstrap_has_the_row_bootstrap_distribution():
    """Multinomial(n, cells/n) is exactly the distribution of resampled cell counts; check
    mean and SE of the accuracy difference against an explicit row bootstrap."""
    y, a, b = simulate(3, n=2000)
    pa, pb = (a >= 0.5).astype(np.int8), (b >= 0.5).astype(np.int8)
    cells = paired_cell_counts(y, pa, pb)
    boot = bootstrap_cell_counts(cells, 4000, np.random.default_rng(1))
    assert (boot.sum(axis=1) == len(y)).all()
    d_cells = (metric_from_counts("accuracy", *confusion_from_cells(boot, "a"))) - (
        metric_from_counts("accuracy", *confusion_from_cells(boot, "b"))
    )
    rng = np.random.default_rng(2)
    idx = rng.integers(0, len(y), size=(4000, len(y)))
    d_rows = ((pa[idx] == y[idx]).mean(axis=1)) - ((pb[idx] == y[idx]).mean(axis=1))
    # SEs from 4,000 resamples each: relative MC error ~1.1% each -> 6% is > 3.5 sd
    assert d_cells.std() / d_rows.std() == pytest.approx(1.0, abs=0.06)
    assert abs(d_cells.mean() - d_rows.mean()) < 4 * d_rows.std() / math.sqrt(4000) * 1.5


def test_ks_cross_fitted_interval_against_fixed_threshold_bootstrap():
    """Issue 12 replaced the KS row bootstrap and its large-n fixed-threshold variant by
    one method (cross-fitted thresholds, per-half cell bootstraps combined in the worst
    case; performance_ks.py). With a unique maximum: each half has about sqrt(2) times
    the full sample's SE, so the SE is sqrt(2) times the fixed-threshold bootstrap's
    (the price of validity on a flat maximum); the point values are scipy's, and the
    cross-fitted KS is within one SE of them."""
    y, a, b = simulate(0, n=20_000)
    res = performance_gate(y, a, b, metric="ks", bootstrap_samples=1000, seed=1)
    assert res.details["ci_method"] == "cross_fitted_ks_cells_bootstrap"
    ka = ks_2samp(a[y == 1], a[y == 0])
    kb = ks_2samp(b[y == 1], b[y == 0])
    assert res.details["candidate"] == pytest.approx(ka.statistic, abs=TOL)
    assert res.details["baseline"] == pytest.approx(kb.statistic, abs=TOL)
    assert res.value == pytest.approx(kb.statistic - ka.statistic, abs=TOL)
    assert res.ci_low <= res.value <= res.ci_high
    cells = paired_cell_counts(y, (a <= ka.statistic_location).astype(int), (b <= kb.statistic_location).astype(int))
    boot = bootstrap_cell_counts(cells, 4000, np.random.default_rng(3))
    _, fa, _, ta = confusion_from_cells(boot, "a")
    _, fb, _, tb = confusion_from_cells(boot, "b")
    n_pos = boot[:, 4:].sum(axis=1)
    n_neg = boot[:, :4].sum(axis=1)
    fixed = np.abs(ta / n_pos - fa / n_neg) - np.abs(tb / n_pos - fb / n_neg)
    assert res.details["se"] / fixed.std(ddof=1) == pytest.approx(math.sqrt(2), abs=0.25)
    assert abs(res.details["ks_candidate_cross_fitted"] - ka.statistic) < res.details["se"]
    assert abs(res.details["ks_baseline_cross_fitted"] - kb.statistic) < res.details["se"]


def _uniform_mixture(rng, n, weights, edges):
    k = rng.choice(len(weights), size=n, p=weights)
    lo, hi = np.asarray(edges[:-1])[k], np.asarray(edges[1:])[k]
    return lo + (hi - lo) * rng.random(n)


def ks_margin_data(rng, n, plateau=True, margin=0.02):
    """Candidate KS 0.30 and baseline KS 0.30 + margin, so the true drop is exactly the
    margin. plateau: the candidate's F0 - F1 is 0.30 on all of [0.3, 0.7] (equal score
    densities there); else its maximum is at 0.5 only. The baseline's maximum is at 0.5."""
    y = (rng.random(n) < 0.5).astype(int)
    n1 = int(y.sum())
    a, b = np.empty(n), np.empty(n)
    if plateau:
        a[y == 0] = _uniform_mixture(rng, n - n1, [0.4, 0.2, 0.4], [0, 0.3, 0.7, 1])
        a[y == 1] = _uniform_mixture(rng, n1, [0.1, 0.2, 0.7], [0, 0.3, 0.7, 1])
    else:
        a[y == 0] = _uniform_mixture(rng, n - n1, [0.5, 0.5], [0, 0.5, 1])
        a[y == 1] = _uniform_mixture(rng, n1, [0.2, 0.8], [0, 0.5, 1])
    k = 0.3 + margin
    b[y == 0] = _uniform_mixture(rng, n - n1, [0.5, 0.5], [0, 0.5, 1])
    b[y == 1] = _uniform_mixture(rng, n1, [0.5 - k, 0.5 + k], [0, 0.5, 1])
    return y, a, b


@pytest.mark.parametrize(("n", "reps"), [(1000, 300), (12_000, 150)])
def test_ks_plateau_at_the_margin_passes_at_most_nominal(n, reps):
    """Issue 12: with the candidate's KS maximum flat and the true drop exactly at the
    margin, the gate passed 8.7% (row bootstrap, n = 1,000) and 5.7% (large-n cells,
    n = 60,000) of 300 seeded runs; nominal 2.5%, allowed 3.5% + 1 MC SE. Now about 1%
    (bench/calibration.py: 1.1% at n = 1,000, 0.4% at n = 20,000 over 2,000 runs)."""
    rng = np.random.default_rng(12)
    passes = 0
    for i in range(reps):
        y, a, b = ks_margin_data(rng, n)
        res = performance_gate(y, a, b, metric="ks", max_drop=0.02, bootstrap_samples=1000, seed=i)
        passes += res.status == "passed"
    assert passes / reps <= 0.035 + math.sqrt(0.035 * 0.965 / reps)


def test_ks_unique_maximum_at_the_margin_is_not_generous():
    rng = np.random.default_rng(13)
    passes = 0
    for i in range(200):
        y, a, b = ks_margin_data(rng, 1000, plateau=False)
        passes += performance_gate(y, a, b, metric="ks", max_drop=0.02, seed=i).status == "passed"
    assert passes / 200 <= 0.035 + math.sqrt(0.035 * 0.965 / 200)


def test_ks_halves_are_stratified_and_seeded():
    y = np.array([1] * 7 + [0] * 13)
    h1 = stratified_halves(y, np.random.default_rng(0))
    h2 = stratified_halves(y, np.random.default_rng(0))
    assert np.array_equal(h1, h2)
    assert abs(int(y[h1 == 0].sum()) - int(y[h1 == 1].sum())) <= 1
    assert abs(int((h1 == 0).sum()) - int((h1 == 1).sum())) <= 2


def test_ks_with_cut_matches_scipy_location_and_sign():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(20, 400))
        y = (rng.random(n) < 0.3).astype(int)
        y[:2] = [1, 0]
        s = rng.normal(size=n) + y * rng.uniform(-1, 1)
        if seed % 2:
            s = np.round(s, 1)
        ref = ks_2samp(s[y == 1], s[y == 0])
        assert ks_with_cut(y, s) == (pytest.approx(ref.statistic, abs=TOL), ref.statistic_location, ref.statistic_sign)


@pytest.mark.parametrize("metric", ["mae", "rmse"])
def test_large_n_normal_approximation_agrees_with_row_bootstrap(metric):
    rng = np.random.default_rng(5)
    n = 20_000
    t = rng.normal(size=n)
    a = t + rng.normal(size=n)
    b = t + 0.6 * (a - t) + 0.9 * rng.normal(size=n)
    big = performance_gate(t, a, b, metric=metric, bootstrap_samples=1000, max_drop=1)
    small = performance_gate(t, a, b, metric=metric, bootstrap_samples=500, max_drop=1)
    assert big.details["ci_method"].startswith("normal")
    assert small.details["ci_method"] == "studentized_paired_row_bootstrap"
    assert big.details["se"] / small.details["se"] == pytest.approx(1.0, abs=0.1)
    assert big.ci_high == pytest.approx(small.ci_high, abs=2 * small.details["se"] * 0.15)


def test_row_bootstrap_budget_constant():
    assert perf.MAX_ROW_BOOTSTRAP_DRAWS == 10_000_000


# ============================================================ the gate


ALL_METRICS = [
    "auc",
    "ks",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "ctr",
    "mae",
    "rmse",
]


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_gate_values_match_references(metric):
    y, a, b = simulate(11, n=800)
    res = performance_gate(y, a, b, metric=metric, max_drop=0.02, seed=3)
    pa, pb = (a >= 0.5).astype(int), (b >= 0.5).astype(int)
    ref = {
        "auc": lambda p, s: roc_auc_score(y, s),
        "ks": lambda p, s: ks_2samp(s[y == 1], s[y == 0]).statistic,
        "accuracy": lambda p, s: accuracy_score(y, p),
        "precision": lambda p, s: precision_score(y, p),
        "recall": lambda p, s: recall_score(y, p),
        "f1": lambda p, s: f1_score(y, p),
        "ctr": lambda p, s: precision_score(y, p),
        "mae": lambda p, s: mean_absolute_error(y, s),
        "rmse": lambda p, s: root_mean_squared_error(y, s),
    }[metric]
    cand, base = ref(pa, a), ref(pb, b)
    assert res.details["candidate"] == pytest.approx(cand, abs=TOL)
    assert res.details["baseline"] == pytest.approx(base, abs=TOL)
    worse = (cand - base) if metric in ("mae", "rmse") else (base - cand)
    assert res.value == pytest.approx(worse, abs=TOL)
    assert res.ci_low <= res.value <= res.ci_high
    assert res.threshold == 0.02
    assert res.n == 800
    assert 0.0 <= res.p_value <= 1.0
    assert res.passed == (res.ci_high <= 0.02)
    assert f"{cand:.3f}" in res.explanation and f"{base:.3f}" in res.explanation
    assert "CI of the" in res.explanation and "margin 0.020" in res.explanation


def test_non_inferiority_decision_at_the_margin():
    y, a, b = simulate(4, n=1500)
    # candidate = the noisier score b, baseline = a: upper bound of the drop is > 0
    for metric in ("auc", "ks", "f1", "mae"):
        probe = performance_gate(y, b, a, metric=metric)
        upper = probe.ci_high
        assert upper > 0
        at = performance_gate(y, b, a, metric=metric, max_drop=upper)
        assert at.passed and "→ passed" in at.explanation
        res = performance_gate(y, b, a, metric=metric, max_drop=upper * (1 - 1e-9))
        assert not res.passed
        assert "exceeds the margin" in res.explanation and "→ failed" in res.explanation


def test_non_inferiority_fails_for_a_clearly_worse_candidate():
    y, a, b = simulate(5, n=3000)
    worse = a + np.random.default_rng(0).normal(size=a.size) * 2  # much noisier
    res = performance_gate(y, worse, a, metric="auc", max_drop=0.01)
    assert not res.passed
    assert res.ci_low > 0.01 and res.p_value < 1e-6
    assert res.details["p_value_margin"] > 0.5
    drop = res.details["baseline"] - res.details["candidate"]
    assert f"drop {drop:.3f}" in res.explanation
    assert f"upper bound {res.ci_high:.3f} exceeds the margin 0.010" in res.explanation


def test_explanation_example_shape():
    y, a, b = simulate(6, n=5000)
    res = performance_gate(y, a, b, metric="auc", max_drop=0.05)
    assert res.passed
    assert res.explanation.startswith(f"AUC {res.details['candidate']:.3f} vs baseline ")
    assert "95% CI of the drop [" in res.explanation
    assert "not worse beyond the margin → passed" in res.explanation


@pytest.mark.parametrize("metric", ["auc", "accuracy", "f1", "mae"])
def test_superiority(metric):
    y, a, b = simulate(8, n=4000)
    b = np.clip(b + np.random.default_rng(1).normal(size=b.size) * 0.3, 0, 1)  # worse
    if metric == "mae":
        y = y.astype(float)
    res = performance_gate(y, a, b, metric=metric, mode="superiority", min_improvement=1e-6)
    imp = res.value
    assert res.ci_low <= imp <= res.ci_high
    assert res.passed == (res.ci_low >= 1e-6)
    # at the lower bound exactly: passes; a hair above: fails
    assert res.ci_low > 0  # the baseline is the noisier score
    assert performance_gate(y, a, b, metric=metric, mode="superiority", min_improvement=res.ci_low).passed
    fail = performance_gate(y, a, b, metric=metric, mode="superiority", min_improvement=res.ci_low + 1e-9)
    assert not fail.passed and "is below the required" in fail.explanation


def test_superiority_relative():
    y, a, b = simulate(9, n=4000)
    res = performance_gate(y, a, b, metric="auc", mode="superiority", min_relative_improvement=0.02)
    base = res.details["baseline"]
    assert res.threshold == pytest.approx(0.02 * base)
    assert res.passed == (res.ci_low >= 0.02 * base)
    assert "2% of the baseline" in res.explanation


def test_mae_increase_is_the_worsening():
    rng = np.random.default_rng(1)
    t = rng.normal(size=500)
    good = t + rng.normal(size=500) * 0.5
    bad = t + rng.normal(size=500) * 1.5
    res = performance_gate(t, bad, good, metric="mae", max_drop=0.1)
    assert res.value == pytest.approx(mae(t, bad) - mae(t, good), abs=TOL)
    assert not res.passed and "increase" in res.explanation
    ok = performance_gate(t, good, bad, metric="rmse", max_drop=0.0)
    assert ok.passed and ok.value < 0


def test_ctr_top_fraction_gate():
    y, a, b = simulate(12, n=2000)
    res = performance_gate(y, a, b, metric="ctr", top_fraction=0.1, max_drop=0.05)
    assert res.details["candidate"] == pytest.approx(ctr(y, a, top_fraction=0.1), abs=TOL)
    assert res.details["baseline"] == pytest.approx(ctr(y, b, top_fraction=0.1), abs=TOL)
    assert res.details["top_fraction"] == 0.1


def test_y_pred_is_used_for_the_candidate():
    y, a, b = simulate(13, n=500)
    yp = (a >= 0.7).astype(int)
    res = performance_gate(y, a, b, metric="recall", y_pred=yp)
    assert res.details["candidate"] == pytest.approx(recall_score(y, yp), abs=TOL)
    assert res.details["baseline"] == pytest.approx(recall_score(y, b >= 0.5), abs=TOL)


@pytest.mark.parametrize("metric", ["ks", "precision", "mae"])
def test_bootstrap_is_deterministic_with_a_seed(metric):
    # accuracy was a bootstrap metric here until issue 12 gave it Tango's score interval,
    # which does not depend on the seed
    y, a, b = simulate(14, n=600)
    r1 = performance_gate(y, a, b, metric=metric, seed=42)
    r2 = performance_gate(y, a, b, metric=metric, seed=42)
    r3 = performance_gate(y, a, b, metric=metric, seed=43)
    assert r1 == r2
    assert (r1.ci_low, r1.ci_high) != (r3.ci_low, r3.ci_high)
    assert r1.value == r3.value


def test_identical_models_have_zero_difference():
    y, a, _ = simulate(15, n=400)
    for metric in ALL_METRICS:
        res = performance_gate(y, a, a, metric=metric)
        assert res.value == 0 and res.p_value == 1.0
        if metric in ("recall", "accuracy"):
            # issue 12: Tango's score interval (not a degenerate bootstrap) - with no
            # discordant pair among n it is +-t, t the bound of (f, g) = (0, 0): the data
            # cannot exclude a small drop, so a margin of 0 is not met
            n = int(y.sum()) if metric == "recall" else y.size
            _, lo, hi = tango_interval(0, 0, n, 0.95)
            assert (res.ci_low, res.ci_high) == pytest.approx((lo, hi), abs=TOL) and hi > 0
            assert not res.passed
        else:
            assert res.ci_low == 0 and res.ci_high == 0 and res.passed


# ============================================================ bad input


@pytest.mark.parametrize(
    "args,kwargs,message",
    [
        (([], [], []), {"metric": "auc"}, "empty"),
        (
            ([0, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
            {"metric": "auc"},
            "different lengths",
        ),
        (([0, 1, 1], [0.1, np.nan, 0.3], [0.1, 0.2, 0.3]), {"metric": "auc"}, "NaN"),
        (
            ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, np.inf, 0.3]),
            {"metric": "ks"},
            "infinite",
        ),
        (
            ([0, 1, 3], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
            {"metric": "accuracy"},
            "only 0 and 1",
        ),
        (
            ([1, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
            {"metric": "ks"},
            "both classes",
        ),
        (
            ([0, 0, 0], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
            {"metric": "recall"},
            "positive",
        ),
        (([0, 1, 1], [0.1, 0.2, 0.3], None), {"metric": "auc"}, "baseline_score"),
        (([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]), {"metric": "gini"}, "unknown"),
        (
            ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
            {"metric": "auc", "compare": "previous"},
            "compare",
        ),
        (
            ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
            {"metric": "auc", "mode": "superiority"},
            "exactly one",
        ),
        (
            ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
            {"metric": "auc", "max_drop": -0.1},
            "max_drop",
        ),
        (
            ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
            {"metric": "ks", "bootstrap_samples": 50},
            "bootstrap_samples",
        ),
        (
            ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
            {"metric": "accuracy", "threshold": 1.5},
            "threshold",
        ),
        (
            ([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
            {"metric": "accuracy", "y_pred": [0, 1, 0.5]},
            "y_pred",
        ),
    ],
)
def test_bad_inputs_raise(args, kwargs, message):
    with pytest.raises(GateInputError, match=message):
        performance_gate(*args, **kwargs)


def test_regression_metrics_accept_any_numeric_target():
    res = performance_gate([3.5, -1.0, 2.0], [3.0, -1.5, 2.5], [4.0, 0.0, 2.0], metric="rmse")
    assert res.details["candidate"] == pytest.approx(0.5)
    with pytest.raises(GateInputError, match="NaN"):
        performance_gate([3.5, np.nan, 2.0], [3.0, -1.5, 2.5], [4.0, 0.0, 2.0], metric="mae")


def test_result_details_are_compact_and_json_safe():
    y, a, b = simulate(16, n=5000)
    for metric in ALL_METRICS:
        d = performance_gate(y, a, b, metric=metric).to_dict()
        for v in d["details"].values():
            assert not isinstance(v, (list, np.ndarray)) or len(v) <= 2
        assert {"candidate", "baseline", "difference", "ci", "margin"} <= set(d["details"])


# ====================================================================== paired proportions


@pytest.mark.parametrize(("f", "g", "n"), [(5, 3, 50), (3, 6, 50), (0, 4, 20), (12, 1, 300), (7, 0, 40)])
def test_tango_restricted_mle_and_bounds(f, g, n):
    """q in Tango's statistic is the constrained MLE (checked by scipy's optimizer on the
    multinomial likelihood); Z(0) is McNemar's; at each bound |Z| = z."""
    from scipy.optimize import minimize_scalar

    e = (n - f - g) // 2
    h = n - f - g - e
    for theta in (-0.1, 0.0, 0.05, 0.2):
        # cells (both, cand only, base only, neither) = (p11, q + theta, q, p00); profile
        # out p11/p00 at their MLE share of the concordant mass 1 - 2q - theta
        def nll(q, theta=theta):
            conc = 1 - 2 * q - theta
            if q <= 0 or q + theta <= 0 or conc <= 0:
                return np.inf
            return -(f * np.log(q + theta) + g * np.log(q) + (e + h) * np.log(conc))

        lo_q = max(0.0, -theta) + 1e-12
        ref = minimize_scalar(nll, bounds=(lo_q, (1 - theta) / 2 - 1e-12), method="bounded", options={"xatol": 1e-12})
        w = -f - g + (2 * n - f + g) * theta
        q = (-w + math.sqrt(w * w + 8 * n * g * theta * (1 - theta))) / (4 * n)
        assert q == pytest.approx(ref.x, abs=1e-6)
    if f + g:
        assert tango_z(f, g, n, 0.0) == pytest.approx((f - g) / math.sqrt(f + g), abs=1e-12)
    z = 1.959963984540054
    theta, lo, hi = tango_interval(f, g, n, 0.95)
    assert lo < theta < hi
    if lo > -1:
        assert tango_z(f, g, n, lo) == pytest.approx(z, abs=1e-6)
    if hi < 1:
        assert tango_z(f, g, n, hi) == pytest.approx(-z, abs=1e-6)


def test_recall_at_the_margin_with_few_positives_is_not_generous():
    """Issue 12: recall 0.80 vs 0.75 (margin 0.05) with ~50 positives of 1,000 rows: the
    percentile interval of the cell bootstrap passed 4.6% of 3,000 runs (nominal 2.5%);
    Tango's paired score interval passes 2.7%. 1,500 runs here: <= 3.5% + 1 MC SE."""
    p = np.array([0.80, 0.05, 0.05, 0.10, 0.15, 0.10, 0.05, 0.70]) * np.repeat([0.95, 0.05], 4)
    rng = np.random.default_rng(1000)
    reps, passes = 1500, 0
    for i in range(reps):
        code = rng.choice(8, size=1000, p=p)
        y, a, b = code // 4, (code // 2) % 2, code % 2
        res = performance_gate(y, a.astype(float), b.astype(float), metric="recall", max_drop=0.05, seed=i)
        passes += res.status == "passed"
    assert res.details["ci_method"] == "tango_paired_score"
    assert passes / reps <= 0.035 + math.sqrt(0.035 * 0.965 / reps)


def test_rmse_with_few_rows_at_the_margin_is_not_generous():
    """Issue 12 calibration: rmse 1.1 against 1.0 (normal errors, correlation 0.8) over 50
    rows, max_drop exactly the true increase 0.1: a pass is wrong. The percentile interval
    of the row bootstrap passed 4.0% and covered 93.3% of 2,000 runs (bench/calibration.py);
    the studentized one passes 3.5% and covers 93.8% on the same runs. 300 seeded runs
    cannot tell 3.5% from 4.0% (their standard error is 1 point), so this guards against
    gross regressions (<= 5%, coverage >= 92%); the interval's formula is pinned by the
    next test, and the bench table is the measurement."""
    rng = np.random.default_rng(15053)
    passed = covered = 0
    for i in range(300):
        y = rng.normal(size=50)
        eb = rng.normal(size=50)
        ea = 1.1 * (0.8 * eb + 0.6 * rng.normal(size=50))
        res = performance_gate(y, y + ea, y + eb, metric="rmse", max_drop=0.1, seed=i)
        passed += res.passed
        covered += res.ci_low <= 0.1 <= res.ci_high
    assert res.details["ci_method"] == "studentized_paired_row_bootstrap"
    assert passed / 300 <= 0.05 and covered / 300 >= 0.92


def test_studentized_interval_matches_a_direct_bootstrap_t():
    """The mae interval is the bootstrap-t interval computed directly from explicit paired
    row resamples (same seed, same index draws): t* = (D* - D) / se*."""
    rng = np.random.default_rng(3)
    t = rng.normal(size=80)
    a, b = t + rng.normal(size=80), t + 1.2 * rng.normal(size=80)
    res = performance_gate(t, a, b, metric="mae", max_drop=1.0, seed=11, bootstrap_samples=500)
    d = np.abs(a - t) - np.abs(b - t)
    idx = np.random.default_rng(11).integers(0, 80, size=(500, 80))
    dd = d[idx]
    t_star = (dd.mean(axis=1) - d.mean()) / (dd.std(axis=1, ddof=1) / np.sqrt(80))
    se = d.std(ddof=1) / np.sqrt(80)
    t_lo, t_hi = np.quantile(t_star, [0.025, 0.975])
    # the gate reports the worsening (candidate mae - baseline mae) and its interval
    assert res.value == pytest.approx(d.mean(), abs=TOL)
    assert (res.ci_low, res.ci_high) == pytest.approx((d.mean() - t_hi * se, d.mean() - t_lo * se), abs=1e-12)
