"""Tests of the pure robustness gate."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.gates.stats.outcome import FAILED, PASSED, GateInputError
from governance.gates.stats.robustness import DEFAULT_MAX_DROP, robustness_gate


def report(*tests):
    return {"tests": list(tests)}


def t(name, baseline, perturbed, metric="auc", **extra):
    return {
        "name": name,
        "metric": metric,
        "baseline": baseline,
        "perturbed": perturbed,
        **extra,
    }


def test_small_drops_pass():
    result = robustness_gate(
        report=report(t("gaussian_noise", 0.91, 0.89), t("missing_values", 0.91, 0.90)),
        max_drop=0.05,
    )
    assert result.status == PASSED
    assert result.metric == "max_metric_drop"
    assert result.value == pytest.approx(0.02)
    assert result.threshold == 0.05
    assert result.n == 2
    assert result.groups["gaussian_noise"] == {
        "metric": "auc",
        "baseline": 0.91,
        "perturbed": 0.89,
        "higher_is_better": True,
        "drop": pytest.approx(0.02),
        "passed": True,
    }
    assert result.explanation.startswith("all 2 tests within a drop of 0.05; worst gaussian")
    assert result.explanation.endswith("→ passed")
    json.dumps(result.to_dict())


def test_large_drop_fails_and_is_named():
    result = robustness_gate(
        report=report(
            t("gaussian_noise", 0.91, 0.85),
            t("typos", 0.80, 0.79, metric="f1"),
            t("occlusion", 0.90, 0.70),
        ),
        max_drop=0.05,
    )
    assert result.status == FAILED
    assert result.value == pytest.approx(0.20)
    assert result.details["worst_test"] == "occlusion"
    assert result.details["failing_tests"] == ["occlusion", "gaussian_noise"]
    assert result.groups["typos"]["passed"] is True
    assert result.groups["occlusion"]["passed"] is False
    assert result.explanation == (
        "2 of 3 tests dropped more than 0.05: occlusion auc 0.9→0.7 (drop 0.2); "
        "gaussian_noise auc 0.91→0.85 (drop 0.06) → failed"
    )


def test_lower_is_better_metrics():
    ok = robustness_gate(
        report=report(t("noise", 0.10, 0.12, metric="mae", higher_is_better=False)),
        max_drop=0.05,
    )
    assert ok.passed and ok.value == pytest.approx(0.02)
    bad = robustness_gate(
        report=report(t("noise", 0.10, 0.20, metric="rmse", higher_is_better=False)),
        max_drop=0.05,
    )
    assert bad.status == FAILED and bad.value == pytest.approx(0.10)
    improved = robustness_gate(
        report=report(t("noise", 0.10, 0.05, metric="mae", higher_is_better=False)),
        max_drop=0.0,
    )
    assert improved.passed and improved.value == pytest.approx(-0.05)


def test_drop_equal_to_max_drop_passes_despite_float_noise():
    result = robustness_gate(report=report(t("x", 0.8, 0.75)), max_drop=0.05)
    assert 0.8 - 0.75 > 0.05  # the float subtraction overshoots
    assert result.passed


def test_default_max_drop_and_null_higher_is_better():
    assert DEFAULT_MAX_DROP == 0.05
    result = robustness_gate(report=report(t("x", 1, 0.96, higher_is_better=None)))
    assert result.passed and result.threshold == 0.05


def test_numpy_numbers_are_accepted():
    result = robustness_gate(
        report=report(t("x", np.float64(0.9), np.float32(0.8))),
        max_drop=np.float64(0.2),
    )
    assert result.passed
    json.dumps(result.to_dict())


def test_many_failures_are_summarised():
    tests = [t(f"t{i}", 1.0, 0.5 - i / 100) for i in range(8)]
    result = robustness_gate(report=report(*tests), max_drop=0.1)
    assert "8 of 8 tests" in result.explanation
    assert "… 3 more" in result.explanation


@pytest.mark.parametrize(
    ("bad_report", "message"),
    [
        ([], r"^\$: robustness report must be an object"),
        ({}, r"^\$\.tests: required list is missing"),
        ({"tests": {}}, r"^\$\.tests: must be a list"),
        ({"tests": []}, r"^\$\.tests: must not be empty"),
        ({"tests": ["x"]}, r"^\$\.tests\[0\]: must be an object"),
        (report(t("a", 1, 1), {"metric": "auc", "baseline": 1, "perturbed": 1}),
         r"^\$\.tests\[1\]\.name: required"),
        (report(t("", 1, 1)), r"^\$\.tests\[0\]\.name: must be a non-empty string"),
        (report(t("a", 1, 1, metric=3)), r"^\$\.tests\[0\]\.metric: must be a non-empty"),
        (report({"name": "a", "metric": "auc", "perturbed": 1}),
         r"^\$\.tests\[0\]\.baseline: required"),
        (report(t("a", 1, None)), r"^\$\.tests\[0\]\.perturbed: required"),
        (report(t("a", "0.9", 1)), r"^\$\.tests\[0\]\.baseline: must be a number"),
        (report(t("a", True, 1)), r"^\$\.tests\[0\]\.baseline: must be a number"),
        (report(t("a", 1, math.nan)), r"^\$\.tests\[0\]\.perturbed: must be a finite"),
        (report(t("a", math.inf, 1)), r"^\$\.tests\[0\]\.baseline: must be a finite"),
        (report(t("a", 1, 1, higher_is_better="yes")),
         r"^\$\.tests\[0\]\.higher_is_better: must be true or false"),
        (report(t("a", 1, 1), t("a", 1, 1)), r"^\$\.tests\[1\]\.name: duplicate test name"),
    ],
)  # fmt: skip
def test_malformed_reports_name_the_path(bad_report, message):
    with pytest.raises(GateInputError, match=message):
        robustness_gate(report=bad_report, max_drop=0.05)


@pytest.mark.parametrize("max_drop", [-0.01, math.nan, "0.05", None])
def test_bad_max_drop(max_drop):
    with pytest.raises(GateInputError, match="max_drop"):
        robustness_gate(report=report(t("a", 1, 1)), max_drop=max_drop)


finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@given(
    st.lists(st.tuples(finite, finite, st.booleans()), min_size=1, max_size=10),
    st.floats(0, 5, allow_nan=False),
)
def test_value_is_the_worst_drop_and_status_agrees(rows, max_drop):
    tests = [t(f"t{i}", b, p, higher_is_better=h) for i, (b, p, h) in enumerate(rows)]
    result = robustness_gate(report=report(*tests), max_drop=max_drop)
    drops = [(b - p) if h else (p - b) for b, p, h in rows]
    assert result.value == pytest.approx(max(drops))
    assert result.passed == all(d <= max_drop + 1e-9 for d in drops)
    assert result.n == len(rows)
