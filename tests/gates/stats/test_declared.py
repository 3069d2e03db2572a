"""Declared metrics gate: the metrics file against the metrics recomputed from the
predictions, each recomputation checked against scikit-learn / SciPy (no Django)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

from governance.core.vocabulary import DECLARED_METRICS
from governance.gates.stats.declared import declared_metrics_gate, disagrees, recompute_metric
from governance.gates.stats.outcome import GateInputError


def _binary(seed=3, n=3000):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(int)
    score = 1 / (1 + np.exp(-(1.8 * (2 * y - 1) + rng.normal(size=n))))
    return y, np.round(score, 6)


def _sklearn(metric, y, s, threshold=0.5):
    p = (s >= threshold).astype(int)
    tn = int(((y == 0) & (p == 0)).sum())
    fp = int(((y == 0) & (p == 1)).sum())
    return {
        "auc": roc_auc_score(y, s),
        "ks": ks_2samp(s[y == 1], s[y == 0]).statistic,
        "accuracy": accuracy_score(y, p),
        "precision": precision_score(y, p),
        "recall": recall_score(y, p),
        "sensitivity": recall_score(y, p),
        "specificity": tn / (tn + fp),
        "npv": precision_score(1 - y, 1 - p),
        "f1": f1_score(y, p),
        "fpr": fp / (tn + fp),
        "fnr": 1 - recall_score(y, p),
    }[metric]


@pytest.mark.parametrize("metric", [m for m in DECLARED_METRICS if m not in ("mae", "rmse")])
@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_every_binary_metric_is_recomputed_as_sklearn_computes_it(metric, threshold):
    y, s = _binary()
    got = recompute_metric(metric, y, s, threshold=threshold)
    assert got == pytest.approx(_sklearn(metric, y, s, threshold), abs=1e-12)


def test_regression_metrics_are_recomputed_as_sklearn_computes_them():
    rng = np.random.default_rng(5)
    truth = rng.gamma(4.0, 4.0, 2000)
    pred = truth + rng.normal(0, 2, 2000)
    assert recompute_metric("mae", truth, pred) == pytest.approx(mean_absolute_error(truth, pred), abs=1e-12)
    assert recompute_metric("rmse", truth, pred) == pytest.approx(root_mean_squared_error(truth, pred), abs=1e-12)


def test_y_pred_when_given_decides_the_counts():
    y, s = _binary()
    y_pred = (s >= 0.8).astype(int)
    assert recompute_metric("recall", y, s, y_pred=y_pred) == pytest.approx(recall_score(y, y_pred))


def test_a_declared_auc_far_from_the_evidence_fails_with_both_numbers():
    y, s = _binary()
    auc = roc_auc_score(y, s)
    result = declared_metrics_gate({"auc": 0.81, "ks": 0.5}, y, s, metrics=["auc"])
    assert result.status == "failed"
    assert result.explanation.startswith(
        f"The reported metric does not match the evidence: declared auc 0.81, recomputed {auc:.3f} (tolerance 0.02)"
    )
    assert result.metric == "auc" and result.value == pytest.approx(abs(0.81 - auc)) and result.threshold == 0.02
    assert result.groups["auc"]["status"] == "mismatch"
    assert result.groups["ks"]["status"] == "not_compared"
    assert result.n == y.size


def test_declared_numbers_rounded_to_three_decimals_pass():
    y, s = _binary()
    declared = {"AUC": round(roc_auc_score(y, s), 3), "ks": round(ks_2samp(s[y == 1], s[y == 0]).statistic, 3)}
    result = declared_metrics_gate({**declared, "log_loss": 0.31, "notes": {"a": 1}}, y, s)
    assert result.status == "passed", result.explanation
    assert result.details["compared"] == ["auc", "ks"]
    assert result.details["not_compared"] == ["log_loss"]
    assert "not compared: log_loss" in result.explanation
    assert result.value <= result.threshold


def test_the_rule_sits_exactly_at_the_tolerance():
    y, s = _binary()
    auc = roc_auc_score(y, s)
    assert declared_metrics_gate({"auc": auc - 0.0199}, y, s).status == "passed"
    assert declared_metrics_gate({"auc": auc - 0.0201}, y, s).status == "failed"
    assert declared_metrics_gate({"auc": auc + 0.0201}, y, s).status == "failed"


def test_a_relative_tolerance_widens_the_allowance_when_larger():
    rng = np.random.default_rng(9)
    truth = rng.gamma(4.0, 4.0, 2000)
    pred = truth + rng.normal(0, 2, 2000)
    mae = mean_absolute_error(truth, pred)  # about 1.6: 5% is 0.08
    off = mae + 0.05
    assert declared_metrics_gate({"mae": off}, truth, pred).status == "failed"
    result = declared_metrics_gate({"mae": off}, truth, pred, relative_tolerance=0.05)
    assert result.status == "passed", result.explanation
    assert result.threshold == pytest.approx(0.05 * mae)
    assert disagrees(1.0, 1.06, tolerance=0.02, relative_tolerance=0.05) is True
    assert disagrees(1.0, 1.04, tolerance=0.02, relative_tolerance=0.05) is False


def test_a_metric_the_policy_compares_but_the_file_does_not_declare_fails():
    y, s = _binary()
    result = declared_metrics_gate({"auc": roc_auc_score(y, s)}, y, s, metrics=["auc", "ks"])
    assert result.status == "failed"
    assert "does not declare ks" in result.explanation


def test_a_declared_metric_the_predictions_cannot_give_is_inconclusive():
    y = np.zeros(500, dtype=int)  # one class only: no AUC, no recall
    s = np.random.default_rng(1).random(500)
    result = declared_metrics_gate({"auc": 0.9, "accuracy": float(np.mean(s < 0.5))}, y, s)
    assert result.status == "inconclusive"
    assert "Declared auc 0.9 cannot be recomputed: AUC needs both classes" in result.explanation
    assert result.metric == "auc" and result.value is None
    assert result.groups["auc"]["status"] == "not_recomputable"
    assert result.groups["accuracy"]["status"] == "match"
    assert "auc" in result.details["needed"]["text"]


def test_a_mismatch_wins_over_a_metric_that_cannot_be_recomputed():
    y = np.zeros(500, dtype=int)
    s = np.random.default_rng(1).random(500)
    result = declared_metrics_gate({"auc": 0.9, "accuracy": 0.99}, y, s)
    assert result.status == "failed"
    assert "declared accuracy 0.99" in result.explanation and "auc 0.9 cannot be recomputed" in result.explanation


def test_nothing_recomputable_declared_is_inconclusive():
    y, s = _binary()
    result = declared_metrics_gate({"log_loss": 0.3, "brier": 0.1}, y, s)
    assert result.status == "inconclusive"
    assert "declares no metric this gate can recompute" in result.explanation


@pytest.mark.parametrize(
    "declared, spec, message",
    [
        ([0.8], {}, "JSON object"),
        ({"auc": 0.8, "AUC": 0.81}, {}, "declares auc twice"),
        ({"auc": 0.8}, {"tolerance": -1}, "tolerance must be"),
        ({"auc": 0.8}, {"relative_tolerance": 2}, "relative_tolerance must be"),
        ({"auc": 0.8}, {"metrics": ["gini"]}, "unknown declared metrics"),
        ({"auc": 0.8}, {"bogus": 1}, "unknown parameter"),
    ],
)
def test_bad_inputs_are_gate_input_errors(declared, spec, message):
    y, s = _binary(n=100)
    with pytest.raises(GateInputError, match=message):
        declared_metrics_gate(declared, y, s, **spec)
