"""Declared metrics against the gates' recomputed ones: labelled, and a big gap is a warning."""

from __future__ import annotations

from governance.approvals.declared import disagreements, recomputed_metrics

OUTCOMES = [
    {"gate_id": "auc_ok", "type": "performance", "metric": "auc", "value": -0.004, "details": {"candidate": 0.962}},
    {"gate_id": "recall_ok", "type": "threshold_metric", "metric": "recall", "value": 0.91, "details": {}},
    {"gate_id": "docs", "type": "documentation", "metric": "documents incomplete", "value": 0},
]


def test_it_reads_the_recomputed_candidate_values_of_performance_and_threshold_gates():
    assert recomputed_metrics(OUTCOMES) == {"auc": (0.962, "auc_ok"), "recall": (0.91, "recall_ok")}


def test_a_big_gap_is_flagged_and_a_small_one_is_not():
    found = disagreements({"auc": 0.81, "recall": 0.905, "ks": 0.4}, OUTCOMES)
    assert [(d.metric, d.declared, d.recomputed, d.gate_id) for d in found] == [("auc", 0.81, 0.962, "auc_ok")]
    assert disagreements({"auc": True}, OUTCOMES) == []  # not a number
    assert disagreements({}, OUTCOMES) == []


def test_a_declared_metrics_gate_s_recomputed_values_count_too():
    gate = {
        "gate_id": "numbers",
        "type": "declared_metrics",
        "metric": "ks",
        "groups": {"ks": {"declared": 0.5, "recomputed": 0.803}, "log_loss": {"declared": 0.3, "recomputed": None}},
    }
    assert recomputed_metrics([gate]) == {"ks": (0.803, "numbers")}
    found = disagreements({"KS": 0.5}, [gate])  # names are compared case-insensitively, as the gate does
    assert [(d.metric, d.declared, d.recomputed) for d in found] == [("ks", 0.5, 0.803)]


def test_a_metrics_file_naming_a_metric_twice_flags_nothing_rather_than_breaking_the_page():
    assert disagreements({"auc": 0.81, "AUC": 0.5}, OUTCOMES) == []
