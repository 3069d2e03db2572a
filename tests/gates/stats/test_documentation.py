"""Tests of the pure documentation gate."""

from __future__ import annotations

import json

import pytest

from governance.gates.stats.documentation import DOCUMENT_KINDS, documentation_gate
from governance.gates.stats.outcome import FAILED, PASSED, GateInputError

ALL = list(DOCUMENT_KINDS)


def complete():
    return {kind: {"present": True, "missing_fields": []} for kind in ALL}


def test_all_complete_passes():
    result = documentation_gate(required=ALL, documents=complete())
    assert result.status == PASSED
    assert result.metric == "documents_incomplete"
    assert result.value == 0 and result.threshold == 0 and result.n == 4
    assert all(g["status"] == "complete" for g in result.groups.values())
    assert result.explanation == (
        "all 4 required documents complete (model_card, evaluation_report, monitoring_plan, rollback_plan) → passed"
    )
    json.dumps(result.to_dict())


def test_default_requires_all_four():
    docs = complete()
    del docs["rollback_plan"]
    result = documentation_gate(required=None, documents=docs)
    assert result.status == FAILED
    assert result.groups["rollback_plan"] == {"status": "missing", "missing_fields": []}


def test_missing_and_incomplete_are_named_with_fields():
    docs = complete()
    docs["model_card"] = {
        "present": True,
        "missing_fields": ["intended_use", "limitations"],
    }
    docs["monitoring_plan"] = {"present": False, "missing_fields": []}
    del docs["rollback_plan"]
    result = documentation_gate(required=ALL, documents=docs)
    assert result.status == FAILED
    assert result.value == 3
    assert result.groups["model_card"] == {
        "status": "incomplete",
        "missing_fields": ["intended_use", "limitations"],
    }
    assert result.groups["evaluation_report"]["status"] == "complete"
    assert result.groups["monitoring_plan"]["status"] == "missing"
    assert result.explanation == (
        "model_card incomplete (missing: intended_use, limitations); monitoring_plan "
        "missing; rollback_plan missing → failed"
    )


def test_only_required_documents_are_judged():
    docs = {"model_card": {"present": True, "missing_fields": []}}
    result = documentation_gate(required=["model_card"], documents=docs)
    assert result.passed
    assert list(result.groups) == ["model_card"]


def test_present_defaults_to_true_and_missing_fields_to_empty():
    result = documentation_gate(required=["model_card"], documents={"model_card": {}})
    assert result.passed
    result = documentation_gate(required=["model_card"], documents={"model_card": {"missing_fields": None}})
    assert result.passed


def test_duplicates_in_required_are_counted_once():
    result = documentation_gate(required=["model_card", "model_card"], documents={})
    assert result.value == 1 and result.n == 1


def test_empty_required_passes_and_no_documents_is_allowed():
    result = documentation_gate(required=[], documents=None)
    assert result.passed
    assert result.explanation == "no documents required → passed"


def test_nothing_uploaded_fails_every_required_document():
    result = documentation_gate(required=ALL, documents={})
    assert result.value == 4
    assert all(g["status"] == "missing" for g in result.groups.values())


def test_none_entry_means_missing():
    result = documentation_gate(required=["model_card"], documents={"model_card": None})
    assert result.groups["model_card"]["status"] == "missing"


@pytest.mark.parametrize(
    ("required", "documents", "message"),
    [
        (["model_card", "readme"], {}, "unknown document kinds"),
        ("model_card", {}, "require must be a list"),
        (ALL, [], "documents must be an object"),
        (
            ["model_card"],
            {"model_card": "yes"},
            r"documents\.model_card: must be an object",
        ),
        (
            ["model_card"],
            {"model_card": {"present": "yes"}},
            r"documents\.model_card\.present",
        ),
        (
            ["model_card"],
            {"model_card": {"missing_fields": "limitations"}},
            r"documents\.model_card\.missing_fields",
        ),
        (
            ["model_card"],
            {"model_card": {"missing_fields": ["ok", 3]}},
            r"documents\.model_card\.missing_fields\[1\]",
        ),
    ],
)
def test_bad_inputs_raise(required, documents, message):
    with pytest.raises(GateInputError, match=message):
        documentation_gate(required=required, documents=documents)
