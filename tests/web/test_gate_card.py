"""The gate card names what its number is: a comparison with the baseline shows its drop
(or increase, improvement), not a bare "value" that reads as the metric itself."""

from __future__ import annotations

import re

from django.template.loader import render_to_string

from governance.gates.stats.outcome import value_name


def _metrics_line(outcome: dict, gate_type: str) -> str:
    html = render_to_string(
        "web/_gate.html", {"gid": "g", "gtype": gate_type, "status": outcome["status"], "o": outcome, "chart": None}
    )
    first = re.search(r'<div class="metrics">\s*<div>(.*?)</div>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", first).split())


def test_a_performance_gate_shows_its_drop_against_the_limit():
    outcome = {
        "status": "passed",
        "metric": "auc",
        "value": -0.01516,
        "threshold": 0.01,
        "details": {"compared": "drop", "margin": 0.01},
    }
    assert _metrics_line(outcome, "performance") == "drop -0.01516 vs threshold 0.01"


def test_other_gates_keep_value():
    latency = {"status": "failed", "metric": "p95", "value": 180.0, "threshold": 150.0}
    latency["details"] = {"compared": "upper_confidence_bound"}
    assert _metrics_line(latency, "latency") == "value 180 vs threshold 150"


def test_value_name():
    assert value_name({"details": {"compared": "drop"}}) == "drop"
    assert value_name({"details": {"compared": "increase"}}) == "increase"
    assert value_name({"details": {"compared": "improvement"}}) == "improvement"
    assert value_name({"details": {"compared": "point_estimate"}}) == "value"
    assert value_name({"details": {"compared": ["auc"]}}) == "value"  # declared metrics list what they compared
    assert value_name({"details": None}) == "value"
    assert value_name(None) == "value"
