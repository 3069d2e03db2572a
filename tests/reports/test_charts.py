"""The figures an approver reads next to a gate outcome or an evidence file (reports/charts.py).

Each builder is given a stored outcome (or evidence columns) and must draw what the numbers
say: the CI bar from ci_low to ci_high, the p95 line at the measured p95, the limit where the
policy puts it, red for a failed gate. Pages embed the HTML, which must never fetch plotly.js
from a CDN (it is vendored).
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from governance.reports import charts


def _vertical_lines(fig) -> dict[float, dict]:
    return {s.x0: s.line.to_plotly_json() for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1}


def _horizontal_lines(fig) -> list[float]:
    return [s.y0 for s in fig.layout.shapes if s.type == "line" and s.y0 == s.y1]


def _annotations(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def _assert_self_contained(html: str) -> None:
    assert 'class="plotly-graph-div"' in html
    assert not re.search(r"<script[^>]+src=", html), "a chart must not load a script (plotly.js is vendored)"
    assert "cdn.plot.ly" not in html and "cdn.jsdelivr" not in html


# --- Gate outcomes -------------------------------------------------------------------------

PERFORMANCE = {
    "gate_id": "auc",
    "type": "performance",
    "status": "passed",
    "metric": "auc",
    "value": 0.012,
    "threshold": -0.05,
    "ci_low": -0.004,
    "ci_high": 0.027,
    "details": {"compared": "difference", "ci": [-0.004, 0.027], "margin": -0.05, "confidence": 0.9},
}


def test_a_performance_outcome_draws_its_estimate_and_ci_and_the_limit():
    fig = charts.gate_figure(PERFORMANCE)
    (point,) = fig.data
    assert point.x == (0.012,)
    low, high = point.x[0] - point.error_x.arrayminus[0], point.x[0] + point.error_x.array[0]
    assert (low, high) == pytest.approx((-0.004, 0.027))
    assert point.name == "difference with 90% CI"
    assert point.marker.color == charts.PASS_COLOUR
    lines = _vertical_lines(fig)
    assert lines[-0.05]["dash"] == "dash" and "limit -0.05" in _annotations(fig)
    assert 0 in lines  # no difference from the production version
    assert fig.layout.title.text.startswith("AUC")


def test_a_performance_outcome_without_ci_details_uses_ci_low_and_ci_high():
    outcome = dict(PERFORMANCE, status="failed", ci_low=-0.09, ci_high=-0.06, value=-0.075, details={})
    (point,) = charts.performance_figure(outcome).data
    low, high = point.x[0] - point.error_x.arrayminus[0], point.x[0] + point.error_x.array[0]
    assert (low, high) == pytest.approx((-0.09, -0.06))
    assert point.marker.color == charts.FAIL_COLOUR
    assert point.name == "difference with 95% CI"  # the default confidence


def test_a_cost_weighted_outcome_is_drawn_like_a_performance_one():
    fig = charts.gate_figure(dict(PERFORMANCE, type="cost_weighted", metric="expected_cost"))
    assert fig.data[0].x == (0.012,)


LATENCY = {
    "gate_id": "p95",
    "type": "latency",
    "status": "failed",
    "metric": "latency_p95",
    "value": 187.0,
    "threshold": 120,
    "details": {
        "percentile": 95,
        "percentile_value": 187.0,
        "histogram": {"edges": [0, 50, 100, 150, 200, 250], "counts": [10, 40, 30, 15, 5], "overflow": 3},
    },
}


def test_the_latency_histogram_has_its_p95_marker_at_the_outcome_value():
    fig = charts.gate_figure(LATENCY)
    (bars,) = fig.data
    assert bars.x == (25, 75, 125, 175, 225) and bars.y == (10, 40, 30, 15, 5)
    assert bars.width == (50, 50, 50, 50, 50)
    lines = _vertical_lines(fig)
    assert lines[187.0]["color"] == charts.FAIL_COLOUR  # over the budget: red
    assert lines[120]["dash"] == "dash"
    assert _annotations(fig) == ["p95 187.0 ms", "limit 120 ms"]
    assert "3 above the axis" in fig.layout.title.text


def test_a_passing_latency_gate_draws_its_percentile_in_green():
    outcome = dict(LATENCY, status="passed", threshold=200)
    outcome["details"] = dict(LATENCY["details"], percentile=99, percentile_value=142.5)
    fig = charts.gate_figure(outcome)
    assert _vertical_lines(fig)[142.5]["color"] == charts.PASS_COLOUR
    assert "p99 142.5 ms" in _annotations(fig)


FAIRNESS_ROWS = [
    {"attribute": "gender", "group": "f", "n": 900, "selection_rate": 0.40, "tpr": 0.70, "fpr": 0.10},
    {"attribute": "gender", "group": "m", "n": 1000, "selection_rate": 0.50, "tpr": 0.80, "fpr": 0.12},
    {"attribute": "gender", "group": "x", "n": 12, "selection_rate": 0.10, "tpr": 0.2, "fpr": 0.0, "included": False},
]


def test_a_fairness_ratio_outcome_draws_each_group_and_the_band_under_the_highest_rate():
    outcome = {
        "type": "fairness",
        "status": "failed",
        "metric": "disparate_impact_ratio",
        "details": {"rows": FAIRNESS_ROWS, "band": {"min": 0.9}},
    }
    fig = charts.gate_figure(outcome)
    (bars,) = fig.data
    assert bars.x == ("gender<br>f", "gender<br>m", "gender<br>x")  # two lines: no rotated labels
    assert bars.y == (0.40, 0.50, 0.10)
    assert bars.text == ("n=900", "n=1000", "n=12")
    assert bars.marker.color == (charts.ACCENT, charts.ACCENT, charts.BASELINE)  # the small group is excluded
    # 0.9 x the highest *included* rate (0.50), not counting the excluded group.
    assert _horizontal_lines(fig) == [pytest.approx(0.45)]


def test_a_fairness_outcome_with_an_interval_says_it_in_the_title():
    outcome = {
        "type": "fairness",
        "status": "inconclusive",
        "metric": "disparate_impact_ratio",
        "value": 0.8,
        "ci_low": 0.587,
        "ci_high": 1.0,
        "details": {"rows": FAIRNESS_ROWS, "band": {"min": 0.8}, "confidence": 0.95},
    }
    title = charts.gate_figure(outcome).layout.title.text
    assert "ratio 0.800, 95% simultaneous CI [0.587, 1.000]" in title
    assert "dashed: 0.8 × the highest rate" in title and "(grey: excluded)" in title


def test_a_fairness_difference_outcome_on_true_positive_rates():
    outcome = {
        "type": "fairness",
        "status": "passed",
        "metric": "equal_opportunity_difference",
        "details": {"rows": FAIRNESS_ROWS, "band": {"max": 0.15}},
    }
    fig = charts.gate_figure(outcome)
    assert fig.data[0].y == (0.70, 0.80, 0.2) and fig.data[0].name == "tpr"
    assert _horizontal_lines(fig) == [pytest.approx(0.85)]  # lowest included tpr + 0.15


def test_equalized_odds_shows_true_and_false_positive_rates():
    outcome = {"type": "fairness", "status": "passed", "metric": "equalized_odds_difference"}
    outcome["details"] = {"rows": FAIRNESS_ROWS, "band": {"max": 0.1}}
    fig = charts.gate_figure(outcome)
    assert [t.name for t in fig.data] == ["tpr", "false positive rate"]
    assert fig.data[1].y == (0.10, 0.12, 0.0)


@pytest.mark.parametrize(
    "method,key,limit_key,limit,label",
    [("ks", "p_value", "max_p_value_drift", 0.001, "p-value"), ("psi", "psi", "psi_max", 0.2, "PSI")],
)
def test_a_drift_outcome_draws_one_bar_per_feature_red_when_drifted(method, key, limit_key, limit, label):
    features = [
        {"feature": "income", "test": "ks", "p_value": 0.4, "psi": 0.01, "drifted": False},
        {"feature": "region", "test": "chi2", "p_value": 0.0001, "psi": 0.31, "drifted": True},
    ]
    outcome = {
        "type": "drift",
        "status": "failed",
        "details": {"method": method, "features": features, limit_key: limit},
    }
    fig = charts.gate_figure(outcome)
    (bars,) = fig.data
    assert bars.x == ("income", "region")
    assert bars.y == tuple(f[key] for f in features)
    assert bars.marker.color == (charts.PASS_COLOUR, charts.FAIL_COLOUR)
    assert _horizontal_lines(fig) == [limit]
    assert f"{label} limit {limit:g}" in _annotations(fig)


def test_a_threshold_outcome_draws_the_wilson_interval_and_the_limit():
    outcome = {
        "type": "threshold_metric",
        "status": "failed",
        "metric": "recall",
        "value": 0.48,
        "ci_low": 0.45,
        "ci_high": 0.51,
        "threshold": 0.5,
    }
    fig = charts.gate_figure(outcome)
    (point,) = fig.data
    low, high = point.x[0] - point.error_x.arrayminus[0], point.x[0] + point.error_x.array[0]
    assert (low, high) == pytest.approx((0.45, 0.51))
    assert point.marker.color == charts.FAIL_COLOUR
    assert 0.5 in _vertical_lines(fig)
    assert fig.layout.xaxis.range == pytest.approx((0.43, 0.53))  # the CI and the limit are in view


@pytest.mark.parametrize("status", ["pending", "running", "bypassed"])
def test_gates_without_a_result_have_no_chart(status):
    assert charts.gate_figure(dict(LATENCY, status=status)) is None
    assert charts.gate_chart_html(dict(LATENCY, status=status)) == ""


@pytest.mark.parametrize(
    "outcome",
    [
        None,
        {},
        {"type": "documentation", "status": "passed"},  # a gate type with no figure
        dict(PERFORMANCE, value=None),  # errored before a value
        dict(LATENCY, details={}),
        {"type": "latency", "status": "failed", "details": {"histogram": {"edges": [0, 1]}}},  # malformed
        {"type": "fairness", "status": "failed", "details": {"rows": [{"group": "f"}]}},  # malformed
    ],
)
def test_an_outcome_without_chart_data_shows_its_numbers_only(outcome):
    assert charts.gate_figure(outcome) is None
    assert charts.gate_chart_html(outcome) == ""


@pytest.mark.parametrize("outcome", [PERFORMANCE, LATENCY], ids=["performance", "latency"])
def test_gate_chart_html_embeds_the_data_without_loading_a_script(outcome):
    html = charts.gate_chart_html(outcome)
    _assert_self_contained(html)
    assert str(outcome["value"]) in html
    assert '"displaylogo": false' in html


def test_a_gate_chart_is_built_once_per_outcome_and_is_the_chart_built_afresh():
    """The request page shows every gate's chart on every view: each process builds a chart
    once per outcome (issue 14). The cached chart is the one built directly; an outcome
    that differs in any value gets its own; one that is not plain JSON is built each time."""
    charts._gate_chart_html_of_json.cache_clear()
    first = charts.gate_chart_html(PERFORMANCE)
    assert first == charts.figure_html(charts.gate_figure(PERFORMANCE))
    assert charts.gate_chart_html(copy.deepcopy(PERFORMANCE)) == first
    assert charts._gate_chart_html_of_json.cache_info().hits == 1
    changed = dict(PERFORMANCE, value=PERFORMANCE["value"] + 0.01)
    assert str(changed["value"]) in charts.gate_chart_html(changed) != first
    with_numpy = dict(PERFORMANCE, value=np.float64(PERFORMANCE["value"]))
    assert charts.gate_chart_html(with_numpy) == charts.figure_html(charts.gate_figure(with_numpy))
    assert charts._gate_chart_html_of_json.cache_info().currsize == 2


# --- Evidence figures ----------------------------------------------------------------------


def test_the_score_distribution_splits_scores_by_true_class_or_by_group():
    y_true = np.array([0, 0, 1, 1, 1])
    y_score = np.array([0.1, 0.2, 0.7, 0.8, 0.9])
    fig = charts.score_distribution_figure(y_true, y_score)
    assert [t.name for t in fig.data] == ["y_true = 0", "y_true = 1"]
    assert list(fig.data[0].x) == [0.1, 0.2] and list(fig.data[1].x) == [0.7, 0.8, 0.9]
    groups = np.array(["a", "b", "a", "b", "c"])
    fig = charts.score_distribution_figure(y_true, y_score, by=groups, by_name="region")
    assert [t.name for t in fig.data] == ["region=a", "region=b", "region=c"]
    assert list(fig.data[0].x) == [0.1, 0.7]


def test_the_score_distribution_shows_at_most_eight_groups():
    fig = charts.score_distribution_figure(np.zeros(20), np.linspace(0, 1, 20), by=np.arange(20), by_name="id")
    assert len(fig.data) == 8


def test_the_calibration_curve_puts_each_bin_at_its_mean_score_and_positive_rate():
    y_score = np.array([0.05, 0.15, 0.12, 0.95, 0.91])
    y_true = np.array([0, 0, 1, 1, 1])
    fig = charts.calibration_figure(y_true, y_score, bins=10)
    diagonal, model = fig.data
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    # Bins [0, 0.1): one row, [0.1, 0.2): two rows (one positive), [0.9, 1]: two positives; empty bins skipped.
    assert list(model.x) == pytest.approx([0.05, 0.135, 0.93])
    assert list(model.y) == pytest.approx([0.0, 0.5, 1.0])
    assert list(model.text) == ["n=1", "n=2", "n=2"]


def test_the_latency_evidence_histogram_marks_the_measured_p95():
    latency = np.arange(1, 201, dtype=float)  # 1..200 ms
    fig = charts.latency_histogram_figure(latency)
    assert list(fig.data[0].x) == list(latency)
    p95 = float(np.percentile(latency, 95))
    assert p95 in _vertical_lines(fig)
    assert _annotations(fig) == [f"p95 = {p95:.1f} ms"]


def test_numeric_features_compare_as_histograms_without_missing_values():
    reference = np.array([1.0, 2.0, np.nan, 3.0])
    current = np.array([2.0, np.inf, 4.0])
    fig = charts.feature_comparison_figure("income", reference, current)
    assert [t.type for t in fig.data] == ["histogram", "histogram"]
    assert list(fig.data[0].x) == [1.0, 2.0, 3.0] and list(fig.data[1].x) == [2.0, 4.0]
    assert fig.layout.title.text == "income: reference vs current"


def test_categorical_features_compare_their_shares():
    reference = np.array(["n", "n", "s", "s"], dtype=object)
    current = np.array(["n", "s", "s", "s", "w"], dtype=object)
    fig = charts.feature_comparison_figure("region", reference, current)
    ref, cur = fig.data
    assert ref.x == ("n", "s", "w") and ref.y == pytest.approx((0.5, 0.5, 0.0))
    assert cur.y == pytest.approx((0.2, 0.6, 0.2))


# --- Charts of uploaded evidence (through the real upload and its Parquet copy) ------------


@pytest.mark.django_db
def test_an_uploaded_latency_file_gets_a_histogram_with_its_p95(alice, version):
    from governance.evidence.services import columnar_local_path
    from tests.factories import upload

    values = np.arange(1, 1001, dtype=float) / 10  # 0.1 .. 100.0 ms
    csv = "latency_ms\n" + "".join(f"{v:.1f}\n" for v in values)
    artifact = upload(alice, version, "latency", csv.encode(), "latency.csv")
    (html,) = charts.artifact_charts_html(artifact, columnar_local_path(artifact.blob))
    _assert_self_contained(html)
    assert f"p95 = {np.percentile(values, 95):.1f} ms" in html


@pytest.mark.django_db
def test_uploaded_predictions_get_score_calibration_and_per_group_charts(alice, version):
    from governance.evidence.services import columnar_local_path
    from tests.factories import predictions_csv, upload

    artifact = upload(alice, version, "predictions", predictions_csv(400), "predictions.csv")
    pages = charts.artifact_charts_html(artifact, columnar_local_path(artifact.blob))
    # Per class, calibration, then one per sensitive column (gender, age_band).
    assert len(pages) == 4
    for html in pages:
        _assert_self_contained(html)
    assert "Score distribution per class" in pages[0] and "Calibration" in pages[1]
    assert "gender=f" in pages[2] and "age_band=18-30" in pages[3]


@pytest.mark.django_db
def test_feature_files_are_compared_once_both_reference_and_current_exist(alice, version):
    from governance.evidence.services import columnar_local_path
    from tests.factories import upload

    reference = upload(alice, version, "feature_reference", b"income,region\n1,n\n2,s\n3,s\n", "reference.csv")
    assert charts.artifact_charts_html(reference, columnar_local_path(reference.blob)) == []
    upload(alice, version, "feature_current", b"income,region\n2,n\n4,n\n", "current.csv")
    pages = charts.artifact_charts_html(reference, columnar_local_path(reference.blob))
    assert len(pages) == 2
    assert "income: reference vs current" in pages[0] and "region: reference vs current" in pages[1]
