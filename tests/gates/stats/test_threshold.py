"""Wilson and Clopper-Pearson intervals and the threshold_metric gate (no Django)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, binomtest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from governance.gates.stats.outcome import GateInputError
from governance.gates.stats.threshold import (
    clopper_pearson_interval,
    confusion_counts,
    fmt,
    fmt_vs,
    threshold_metric_gate,
    wilson_interval,
)

TOL = 1e-9


# --------------------------------------------------------------------------- Wilson


@settings(max_examples=60, deadline=None, database=None)
@given(
    n=st.integers(min_value=1, max_value=5000),
    frac=st.floats(min_value=0, max_value=1),
    confidence=st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99, 0.999]),
)
def test_wilson_matches_scipy(n, frac, confidence):
    k = int(round(frac * n))
    ref = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    lo, hi = wilson_interval(k, n, confidence)
    assert lo == pytest.approx(ref.low, abs=TOL)
    assert hi == pytest.approx(ref.high, abs=TOL)


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (0, 50), (50, 50), (1, 2), (499, 500)])
def test_wilson_edges_match_scipy(k, n):
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n, 0.95)
    assert (lo, hi) == pytest.approx((ref.low, ref.high), abs=TOL)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_wilson_rejects_bad_counts():
    with pytest.raises(GateInputError):
        wilson_interval(0, 0)
    with pytest.raises(GateInputError):
        wilson_interval(5, 4)


# ------------------------------------------------------------- metrics vs sklearn


def _data(seed, n=400, p=0.3):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < p).astype(int)
    score = np.clip(0.35 * y + rng.random(n) * 0.7, 0, 1)
    return y, score


@settings(max_examples=30, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), threshold=st.floats(0.05, 0.95))
def test_point_estimates_match_sklearn(seed, threshold):
    y, s = _data(seed)
    pred = (s >= threshold).astype(int)
    if pred.sum() == 0 or pred.sum() == len(pred):
        return
    tn, fp, fn, tp = confusion_counts(y.astype(np.int8), pred.astype(np.int8))
    refs = {
        "recall": recall_score(y, pred),
        "sensitivity": recall_score(y, pred),
        "specificity": recall_score(y, pred, pos_label=0),
        "precision": precision_score(y, pred),
        "npv": precision_score(y, pred, pos_label=0),
        "accuracy": accuracy_score(y, pred),
        "f1": f1_score(y, pred),
        "fpr": fp / (fp + tn),
        "fnr": 1 - recall_score(y, pred),
    }
    for metric, ref in refs.items():
        res = threshold_metric_gate(y, s, metric=metric, min=0.0, threshold=threshold)
        assert res.value == pytest.approx(ref, abs=TOL), metric
        assert res.ci_low <= res.value + TOL and res.value <= res.ci_high + TOL


def test_interval_is_clopper_pearson_of_the_right_denominator():
    y, s = _data(1)
    pred = (s >= 0.5).astype(int)
    tp = int(((y == 1) & (pred == 1)).sum())
    pos = int((y == 1).sum())
    res = threshold_metric_gate(y, s, metric="recall", min=0.5)
    ref = binomtest(tp, pos).proportion_ci(confidence_level=0.95, method="exact")
    assert (res.ci_low, res.ci_high) == pytest.approx((ref.low, ref.high), abs=TOL)
    assert res.details["ci_method"] == "clopper_pearson" and "95% Clopper-Pearson interval" in res.explanation
    assert res.n == pos
    assert res.details["confusion"]["tp"] == tp


def test_f1_interval_is_monotone_map_of_jaccard_clopper_pearson():
    y, s = _data(2)
    pred = (s >= 0.5).astype(int)
    tp = int(((y == 1) & (pred == 1)).sum())
    err = int((y != pred).sum())
    ref = binomtest(tp, tp + err).proportion_ci(confidence_level=0.9, method="exact")
    res = threshold_metric_gate(y, s, metric="f1", min=0.1, confidence=0.9)
    assert res.ci_low == pytest.approx(2 * ref.low / (1 + ref.low), abs=TOL)
    assert res.ci_high == pytest.approx(2 * ref.high / (1 + ref.high), abs=TOL)
    assert res.value == pytest.approx(f1_score(y, pred), abs=TOL)


# --------------------------------------------------------------- decisions


def _recall_data(tp, fn, extra_neg=50):
    y = np.array([1] * (tp + fn) + [0] * extra_neg)
    s = np.array([0.9] * tp + [0.1] * fn + [0.2] * extra_neg)
    return y, s


def test_min_point_estimate_at_the_limit():
    y, s = _recall_data(95, 5)  # recall exactly 0.95
    assert threshold_metric_gate(y, s, metric="recall", min=0.95).passed
    assert not threshold_metric_gate(y, s, metric="recall", min=0.9500001).passed
    res = threshold_metric_gate(y, s, metric="sensitivity", min=0.96)
    assert res.status == "failed"
    assert "0.950" in res.explanation and "0.960" in res.explanation
    assert "below the minimum" in res.explanation


def test_min_uses_the_lower_bound():
    y, s = _recall_data(95, 5)
    lo, _ = clopper_pearson_interval(95, 100, 0.95)
    at = threshold_metric_gate(y, s, metric="recall", min=lo, use_lower_confidence_bound=True)
    assert at.passed
    above = threshold_metric_gate(y, s, metric="recall", min=lo + 1e-9, use_lower_confidence_bound=True)
    assert not above.passed
    # the point estimate 0.95 would pass a 0.9 minimum, the lower bound (0.887) does not
    res = threshold_metric_gate(y, s, metric="recall", min=0.9, use_lower_confidence_bound=True)
    assert not res.passed
    assert fmt(lo) in res.explanation and "lower bound" in res.explanation
    assert res.details["compared"] == "lower_confidence_bound"


def test_max_uses_the_upper_bound():
    # fpr: 2 false positives among 100 negatives
    y = np.array([0] * 100 + [1] * 10)
    s = np.array([0.9] * 2 + [0.1] * 98 + [0.9] * 10)
    _, hi = clopper_pearson_interval(2, 100, 0.95)
    assert threshold_metric_gate(y, s, metric="fpr", max=0.05).passed  # 0.02 <= 0.05
    res = threshold_metric_gate(y, s, metric="fpr", max=0.05, use_lower_confidence_bound=True)
    assert not res.passed  # upper bound 0.070 > 0.05
    assert fmt(hi) in res.explanation and "exceeds the maximum" in res.explanation
    ok = threshold_metric_gate(y, s, metric="fpr", max=hi, use_lower_confidence_bound=True)
    assert ok.passed and ok.details["compared"] == "upper_confidence_bound"


def test_y_pred_overrides_scores_and_threshold_moves_decisions():
    y = np.array([1, 1, 1, 1, 0, 0])
    s = np.array([0.9, 0.6, 0.4, 0.2, 0.3, 0.7])
    assert threshold_metric_gate(y, s, metric="recall", min=0).value == 0.5
    assert threshold_metric_gate(y, s, metric="recall", min=0, threshold=0.3).value == 0.75
    yp = np.array([1, 1, 1, 1, 0, 0])
    res = threshold_metric_gate(y, None, metric="recall", min=1.0, y_pred=yp)
    assert res.value == 1.0 and res.passed and "from y_pred" in res.explanation


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"y_true": [], "y_score": []}, "empty"),
        ({"y_true": [0, 1, 1], "y_score": [0.1, 0.9]}, "different lengths"),
        ({"y_true": [0, 1, np.nan], "y_score": [0.1, 0.9, 0.3]}, "NaN"),
        ({"y_true": [0, 1, 1], "y_score": [0.1, np.inf, 0.3]}, "NaN or infinite"),
        ({"y_true": [0, 2, 1], "y_score": [0.1, 0.9, 0.3]}, "only 0 and 1"),
        ({"y_true": [0, 0, 0], "y_score": [0.1, 0.9, 0.3]}, "no positives"),
    ],
)
def test_bad_inputs_raise(kwargs, message):
    with pytest.raises(GateInputError, match=message):
        threshold_metric_gate(**kwargs, metric="recall", min=0.5)


def test_bad_parameters_raise():
    y, s = _recall_data(9, 1)
    with pytest.raises(GateInputError, match="exactly one"):
        threshold_metric_gate(y, s, metric="recall")
    with pytest.raises(GateInputError, match="exactly one"):
        threshold_metric_gate(y, s, metric="recall", min=0.5, max=0.9)
    with pytest.raises(GateInputError, match="unknown"):
        threshold_metric_gate(y, s, metric="auc", min=0.5)
    with pytest.raises(GateInputError, match="confidence"):
        threshold_metric_gate(y, s, metric="recall", min=0.5, confidence=0.9999)
    with pytest.raises(GateInputError, match="precision is undefined"):
        threshold_metric_gate(y, np.zeros(len(y)), metric="precision", min=0.5)


def test_fmt_vs_adds_decimals_until_different():
    assert fmt_vs(0.0101, 0.01) == ("0.0101", "0.0100")
    assert fmt_vs(0.95, 0.95) == ("0.950", "0.950")
    assert fmt(0.00082) == "0.00082"


def test_result_is_json_safe():
    y, s = _recall_data(19, 1)
    d = threshold_metric_gate(y, s, metric="recall", min=0.9).to_dict()
    assert d["status"] == "passed" and isinstance(d["value"], float)


# ------------------------------------------------------------------ Clopper-Pearson


@settings(max_examples=60, deadline=None, database=None)
@given(
    n=st.integers(min_value=1, max_value=5000),
    frac=st.floats(min_value=0, max_value=1),
    confidence=st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99, 0.999]),
)
def test_clopper_pearson_matches_scipy(n, frac, confidence):
    k = int(round(frac * n))
    ref = binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    assert clopper_pearson_interval(k, n, confidence) == pytest.approx((ref.low, ref.high), abs=TOL)


def test_clopper_pearson_edges_and_bad_counts():
    assert clopper_pearson_interval(0, 10)[0] == 0.0 and clopper_pearson_interval(10, 10)[1] == 1.0
    with pytest.raises(GateInputError, match="at least one trial"):
        clopper_pearson_interval(0, 0)
    with pytest.raises(GateInputError, match="not in 0..4"):
        clopper_pearson_interval(5, 4)


def _wrong_pass_probability(metric: str, kind: str, p: float, n: int) -> float:
    """Exact probability that the gate passes when the true proportion equals the limit:
    the gate itself run on every possible count k of n trials, weighted by Bin(n, p)."""
    total = 0.0
    for k in range(n + 1):
        if metric in ("recall", "fnr"):  # trials: the positives; successes: found (recall) / missed (fnr)
            y = np.ones(n, dtype=int)
            pred = (np.arange(n) < (k if metric == "recall" else n - k)).astype(int)
        else:  # precision: every row predicted positive; successes: the true positives
            y = (np.arange(n) < k).astype(int)
            pred = np.ones(n, dtype=int)
        res = threshold_metric_gate(y, y_pred=pred, metric=metric, use_lower_confidence_bound=True, **{kind: p})
        total += res.passed * binom.pmf(k, n, p)
    return total


@pytest.mark.parametrize(
    ("metric", "kind", "p", "n", "wilson"),
    [
        ("precision", "min", 0.1, 100, 0.040),  # Wilson passed 4.0% of the time here
        ("precision", "min", 0.3, 30, 0.040),
        ("recall", "min", 0.2, 100, 0.034),
        ("fnr", "max", 0.9, 100, 0.040),
        ("recall", "min", 0.8, 50, 0.018),
    ],
)
def test_the_bound_at_the_limit_passes_at_most_nominal(metric, kind, p, n, wilson):
    """Issue 12 calibration: with the truth exactly at the limit a pass is wrong; Wilson's
    one-sided error is uneven away from p = 0.5 (about 4% where 2.5% is nominal, computed
    exactly). Clopper-Pearson's is <= 2.5% for every n and p (exact, not simulated)."""
    assert _wrong_pass_probability(metric, kind, p, n) <= 0.025
    lo_or_hi = 0 if kind == "min" else 1
    wilson_rate = sum(
        binom.pmf(k, n, p) * ((wilson_interval(k, n)[0] >= p) if lo_or_hi == 0 else (wilson_interval(k, n)[1] <= p))
        for k in range(n + 1)
    )
    assert wilson_rate == pytest.approx(wilson, abs=0.0015)  # the defect the change removes


def test_precision_at_the_limit_with_a_random_denominator_passes_at_most_nominal():
    """400 seeded runs of rows drawn from 4 cells (precision exactly 0.1 over ~100
    predicted positives): Wilson passed 4.3% of 300 in bench/calibration.py."""
    rng = np.random.default_rng(12)
    passed = 0
    for _ in range(400):
        code = rng.choice(4, size=1000, p=[0.89, 0.09, 0.01, 0.01])  # tn, fp, fn, tp
        res = threshold_metric_gate(
            code // 2, y_pred=code % 2, metric="precision", min=0.1, use_lower_confidence_bound=True
        )
        passed += res.passed
    assert passed / 400 <= 0.035
