"""Gate parameter objects: validated once, refusals name the parameter (no Django)."""

from __future__ import annotations

import dataclasses

import pytest

from governance.gates.stats.latency import LatencyParams
from governance.gates.stats.outcome import GateInputError
from governance.gates.stats.params import names_from, one_of
from governance.gates.stats.performance import PerformanceParams
from governance.gates.stats.threshold import ThresholdMetricParams


def test_it_fills_defaults_and_normalises_values():
    params = LatencyParams.from_spec({"max_ms": 200})
    assert params == LatencyParams(
        max_ms=200.0,
        percentile=95.0,
        confidence=0.95,
        use_upper_confidence_bound=False,
        bootstrap_samples=1000,
        seed=0,
    )
    assert isinstance(params.max_ms, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.max_ms = 1  # type: ignore[misc]


def test_it_refuses_unknown_and_missing_parameters_by_name():
    with pytest.raises(GateInputError, match=r"latency gate: unknown parameter\(s\) max_m; expected some of max_ms"):
        LatencyParams.from_spec({"max_m": 200})
    with pytest.raises(GateInputError, match=r"latency gate: parameter\(s\) max_ms missing"):
        LatencyParams.from_spec({})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"max_ms": 0}, "max_ms must be a finite number > 0, got 0"),
        ({"max_ms": "fast"}, "max_ms must be a number, got 'fast'"),
        ({"max_ms": 10, "percentile": 40}, "percentile must be between 50 and 99.99, got 40"),
        ({"max_ms": 10, "confidence": 1}, "confidence must be between 0.5 and 0.999, got 1"),
        ({"max_ms": 10, "bootstrap_samples": 150.5}, "bootstrap_samples must be an integer 100..10000"),
    ],
)
def test_each_rule_names_the_parameter(spec, message):
    with pytest.raises(GateInputError, match=message):
        LatencyParams.from_spec(spec)


def test_rules_between_parameters():
    with pytest.raises(GateInputError, match="threshold_metric needs exactly one of min or max"):
        ThresholdMetricParams.from_spec({"metric": "recall"})
    assert ThresholdMetricParams.from_spec({"metric": "RECALL", "max": 0.2}).limit == 0.2
    # a top fraction only means something for ctr; the non-inferiority margin only in that mode
    assert PerformanceParams.from_spec({"metric": "auc", "top_fraction": 5}).top_fraction is None
    assert PerformanceParams.from_spec({"metric": "ctr", "top_fraction": 0.1}).top_fraction == 0.1
    with pytest.raises(GateInputError, match="top_fraction must be greater than 0"):
        PerformanceParams.from_spec({"metric": "ctr", "top_fraction": 0})
    spec = {"metric": "auc", "mode": "superiority", "min_improvement": 0.01, "max_drop": -1}
    assert PerformanceParams.from_spec(spec).min_improvement == 0.01


def test_name_list_rule():
    rule = names_from(("a", "b", "c"), what="letters", in_allowed_order=True)
    assert rule("require", None) == ["a", "b", "c"]
    assert rule("require", ["c", "a", "c"]) == ["a", "c"]
    with pytest.raises(GateInputError, match=r"unknown letters \['z'\]; expected a subset of \['a', 'b', 'c'\]"):
        rule("require", ["a", "z"])
    with pytest.raises(GateInputError, match="require must be a list of letters"):
        rule("require", "a")


def test_choice_rule():
    assert one_of(("ks", "psi"))("method", "psi") == "psi"
    with pytest.raises(GateInputError, match="method must be one of ks, psi; got 'x'"):
        one_of(("ks", "psi"))("method", "x")
    with pytest.raises(GateInputError, match="compare must be 'baseline', got 'x'"):
        one_of(("baseline",))("compare", "x")
