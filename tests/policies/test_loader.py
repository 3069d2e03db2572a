"""Policy loader: the invalid corpus, line numbers, messages, defaults and the API.

Pure: no Django (run with `-p no:django`).
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from governance.core import vocabulary as V
from governance.policies import schema as S
from governance.policies.loader import (
    PolicyDocument,
    PolicyError,
    PolicyIssue,
    check_policy,
    parse_policy,
)

INVALID = Path(__file__).parent / "invalid"
EXPECTED: dict[str, dict] = yaml.safe_load((INVALID / "expected.yaml").read_text("utf-8"))

VALID = textwrap.dedent(
    """\
    name: demo-policy
    applies_to:
      risk_tiers: [medium]
    transitions:
      staging->production:
        gates:
          - {id: auc, type: performance, metric: auc, max_drop: 0.01}
          - {id: p95, type: latency, max_ms: 120}
        approvals:
          - role: model_owner
          - {role: reviewer, count: 2}
        emergency:
          bypassable_gates: [p95]
          max_bypass_hours: 24
          post_incident_review_within_hours: 72
      draft->staging:
        gates: []
        approvals: []
    canary:
      traffic_percent: 10
      duration_hours: 48
      rollback_when:
        - {kpi: ctr, relative_drop: 0.01}
    """
)


def issues_of(text: str | bytes) -> list[PolicyIssue]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    assert info.value.issues, "a PolicyError always carries at least one issue"
    return info.value.issues


# --------------------------------------------------------------------------- the corpus


def test_corpus_and_expectations_match():
    files = {p.name for p in INVALID.glob("*.yaml")} - {"expected.yaml"}
    assert files == set(EXPECTED), "every corpus file has exactly one expectation"
    assert len(files) >= 45


@pytest.mark.parametrize("fname", sorted(EXPECTED))
def test_invalid_corpus(fname):
    want = EXPECTED[fname]
    issues = issues_of((INVALID / fname).read_bytes())
    matching = [i for i in issues if i.path == want["path"] and want["message"] in i.message]
    assert matching, f"{fname}: expected {want}, got:\n" + "\n".join(map(str, issues))
    assert any(i.line == want["line"] for i in matching), f"{fname}: expected line {want['line']}, got:\n" + "\n".join(
        map(str, matching)
    )


@pytest.mark.parametrize("fname", sorted(EXPECTED))
def test_corpus_messages_are_human(fname):
    """No raw jsonschema phrasing and no dumped structures in messages."""
    for issue in issues_of((INVALID / fname).read_bytes()):
        assert "is not valid under" not in issue.message
        assert "is a required property" not in issue.message
        assert "{" not in issue.message and "Additional properties" not in issue.message
        assert len(issue.message) < 400


# --------------------------------------------------------------------------- YAML level


def test_oversize_document_is_refused_before_parsing():
    big = VALID + "description: '" + "x" * (S.MAX_POLICY_BYTES + 1) + "'\n"
    for text in (big, big.encode()):
        (issue,) = issues_of(text)
        assert issue.path == "" and "too large" in issue.message and issue.line is None


def test_exactly_at_the_size_limit_is_accepted():
    pad = S.MAX_POLICY_BYTES - len(VALID.encode()) - len("description: ''\n")
    text = VALID + "description: '" + "x" * pad + "'\n"
    assert len(text.encode()) == S.MAX_POLICY_BYTES
    assert parse_policy(text).data["description"] == "x" * pad


def test_billion_laughs_is_refused_quickly():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefghi", "bcdefghij", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    (issue,) = issues_of("\n".join(lines))
    assert "anchors are not allowed" in issue.message and issue.line == 1


def test_deep_flow_nesting_does_not_recurse_out():
    (issue,) = issues_of("a: " + "[" * 100_000 + "]" * 100_000)
    assert "nested deeper" in issue.message


def test_deep_flow_nesting_is_refused_where_it_passes_the_limit():
    """PyYAML's scanner reads up to 1,024 characters ahead of each open `[` (a possible
    simple key), checking every open level at each step: refused only by the composer,
    "[" * 3000 cost about 0.3 s a policy save. The refusal now comes at the first bracket
    past the limit, having read no further."""
    from governance.policies.yaml_source import _PolicyYamlLoader, _Refusal

    loader = _PolicyYamlLoader("a: " + "[" * 100_000)
    with pytest.raises(_Refusal, match="nested deeper"):
        loader.get_single_node()
    assert loader.index <= len("a: ") + S.MAX_NESTING_DEPTH
    # A character the scanner refuses, right after the limit: the nesting is what is named.
    (issue,) = issues_of("[" * (S.MAX_NESTING_DEPTH + 1) + "`")
    assert "nested deeper" in issue.message and issue.line == 1
    # The limit itself is unchanged: the mapping and 31 lists is the deepest document read.
    depth = S.MAX_NESTING_DEPTH - 1
    assert not any("nested" in i.message for i in issues_of("a: " + "[" * depth + "]" * depth))
    (issue,) = issues_of("a: " + "[" * (depth + 1) + "]" * (depth + 1))
    assert "nested deeper" in issue.message


def test_syntax_error_reports_parser_line():
    (issue,) = issues_of("name: demo-policy\ntransitions:\n  - a\n  b: c\n")
    assert issue.path == "" and issue.message.startswith("YAML syntax error") and issue.line == 4


def test_str_and_bytes_give_the_same_document():
    a, b = parse_policy(VALID), parse_policy(VALID.encode())
    assert a == b and a.sha256 == b.sha256 and a.data == b.data


def test_utf8_bom_is_accepted_and_kept_in_content():
    raw = b"\xef\xbb\xbf" + VALID.encode()
    doc = parse_policy(raw)
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()


def test_non_string_input_is_a_type_error():
    with pytest.raises(TypeError):
        parse_policy(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("NO", "NO"),
        ("1e3", 1000.0),
        ("0.5", 0.5),
        ("+12", 12),
        ("true", True),
        ("False", False),
        ("2024-01-01", "2024-01-01"),
        ("'42'", "42"),
        ("~", None),
    ],
)
def test_yaml_core_schema_scalars(value, expected):
    """YAML 1.2 core schema: no yes/no booleans (Norway problem), 1e3 is a number, no dates."""
    doc = parse_policy(VALID + "description: placeholder\n")
    assert doc.data["description"] == "placeholder"
    from governance.policies.yaml_source import parse_source

    _, data, _, _ = parse_source(VALID.replace("name: demo-policy", f"name: demo-policy\nx_probe: {value}"))
    assert data["x_probe"] == expected and type(data["x_probe"]) is type(expected)


def test_sensitive_column_named_no_stays_a_string():
    text = VALID.replace(
        "- {id: p95, type: latency, max_ms: 120}",
        "- {id: p95, type: latency, max_ms: 120}\n"
        "      - {id: fair, type: fairness, metric: disparate_impact_ratio, sensitive: [NO], min: 0.8}",
    )
    gates = parse_policy(text).gates_for("staging", "production")
    assert gates[2]["sensitive"] == ["NO"]


# --------------------------------------------------------------------------- messages and lines


def test_all_issues_reported_at_once_and_sorted_by_line():
    text = textwrap.dedent(
        """\
        name: Bad Name
        applies_to: {risk_tiers: [medium], models: [m]}
        transitions:
          staging->production:
            gates:
              - {id: p95, type: latency, max_ms: -1}
              - {id: p95, type: cost, max_per_1k: 1}
            approvals: [{role: auditor}]
        """
    )
    issues = issues_of(text)
    assert [i.line for i in issues] == sorted(i.line for i in issues)
    assert {i.line for i in issues} == {1, 2, 6, 7, 8}
    err = PolicyError(issues)
    assert str(err).splitlines() == [str(i) for i in issues]


def test_issue_str_format():
    assert str(PolicyIssue("a.b", "boom", 3)) == "a.b: boom (line 3)"
    assert str(PolicyIssue("a.b", "boom", None)) == "a.b: boom"
    assert str(PolicyIssue("", "boom", 1)) == "boom (line 1)"


def test_policy_error_is_a_value_error_and_dedupes():
    i = PolicyIssue("x", "y", 1)
    err = PolicyError([i, i, PolicyIssue("a", "b", None), PolicyIssue("c", "d", 0)])
    assert isinstance(err, ValueError)
    assert err.issues == [PolicyIssue("c", "d", 0), i, PolicyIssue("a", "b", None)]


def test_missing_key_points_at_parent_mapping_line():
    text = VALID.replace("      - {id: p95, type: latency, max_ms: 120}", "      - id: p95\n        type: latency")
    (issue,) = issues_of(text)
    assert issue.path == "transitions.staging->production.gates[1]"
    assert issue.message == "missing required key 'max_ms'" and issue.line == 8


def test_block_value_error_points_at_its_key_line():
    text = VALID.replace("  duration_hours: 48", "  duration_hours:\n    - 48")
    (issue,) = issues_of(text)
    assert issue.path == "canary.duration_hours" and issue.line == 21
    assert issue.message == "expected a whole number (got a list of 1)"


def test_did_you_mean_on_values_and_keys():
    text = VALID.replace("type: latency", "type: latncy").replace("max_drop:", "max_dorp:")
    messages = {i.path: i.message for i in issues_of(text)}
    assert "did you mean 'latency'?" in messages["transitions.staging->production.gates[1].type"]
    assert "(did you mean 'max_drop'?)" in messages["transitions.staging->production.gates[0].max_dorp"]


def test_bypassable_gate_did_you_mean():
    (issue,) = issues_of(VALID.replace("bypassable_gates: [p95]", "bypassable_gates: [p59]"))
    assert issue.message == ("bypassable gate 'p59' does not exist in this transition; did you mean 'p95'?")


def test_boolean_is_not_a_number():
    (issue,) = issues_of(VALID.replace("max_ms: 120", "max_ms: true"))
    assert issue.message == "expected a number (got true)"


def test_float_count_is_not_an_integer():
    (issue,) = issues_of(VALID.replace("count: 2", "count: 2.0"))
    assert issue.message == "expected a whole number (got 2.0)"


def test_check_policy_is_a_dry_run():
    assert check_policy(VALID) == []
    assert check_policy("name: x")[0].path == ""


# --------------------------------------------------------------------------- document API


def test_document_fields_and_sha256_of_content_bytes():
    doc = parse_policy(VALID)
    assert isinstance(doc, PolicyDocument)
    assert doc.name == "demo-policy" and doc.content == VALID
    assert doc.sha256 == hashlib.sha256(VALID.encode("utf-8")).hexdigest()
    # A comment edit is a new version (different bytes), with identical data.
    edited = parse_policy(VALID + "# reviewed\n")
    assert edited.sha256 != doc.sha256 and edited.data == doc.data
    json.dumps(doc.data)  # JSON-serialisable, for JSONField storage
    assert hash(doc) == hash(parse_policy(VALID))


def test_lookups():
    doc = parse_policy(VALID)
    assert doc.transition("staging", "production")["emergency"]["max_bypass_hours"] == 24
    assert doc.transition("production", "deprecated") is None
    assert doc.transition("nope", "nowhere") is None
    assert [g["id"] for g in doc.gates_for("staging", "production")] == ["auc", "p95"]
    assert doc.gates_for("draft", "staging") == [] and doc.gates_for("x", "y") == []
    assert doc.approvals_for("staging", "production") == [
        {"role": "model_owner", "count": 1},
        {"role": "reviewer", "count": 2},
    ]
    assert doc.approvals_for("production", "deprecated") == []
    assert doc.emergency_for("staging", "production")["bypassable_gates"] == ["p95"]
    assert doc.emergency_for("draft", "staging") is None
    assert doc.experiment_allowed("draft", "staging") is True
    assert doc.experiment_allowed("staging", "production") is False
    assert doc.canary["traffic_percent"] == 10


def test_lookups_return_copies():
    doc = parse_policy(VALID)
    doc.gates_for("staging", "production")[0]["max_drop"] = 0.5
    doc.transition("staging", "production")["gates"].clear()
    assert doc.gates_for("staging", "production")[0]["max_drop"] == 0.01


def test_applies_to_model():
    doc = parse_policy(VALID)
    assert doc.applies_to_model(name="anything", risk_tier="medium")
    assert not doc.applies_to_model(name="anything", risk_tier="high")
    by_name = parse_policy(VALID.replace("risk_tiers: [medium]", "models: [eta, fraud-detector]"))
    assert by_name.applies_to_model(name="fraud-detector", risk_tier="low")
    assert not by_name.applies_to_model(name="other", risk_tier="medium")


def test_defaults_filled():
    text = textwrap.dedent(
        """\
        name: defaults
        applies_to: {models: [m]}
        transitions:
          staging->production:
            gates:
              - {id: a, type: performance, metric: auc}
              - {id: b, type: performance, metric: ctr, mode: superiority, min_improvement: 0.01}
              - {id: c, type: threshold_metric, metric: recall, min: 0.9}
              - {id: d, type: fairness, metric: equalized_odds_difference, sensitive: [g], max: 0.1}
              - {id: e, type: latency, max_ms: 10}
              - {id: f, type: error_rate, max: 0.01}
              - {id: g, type: cost, max_per_1k: 1}
              - {id: h, type: cost_weighted, fp_cost: 1, fn_cost: 10}
              - {id: i, type: drift}
              - {id: j, type: robustness}
              - {id: k, type: reproducibility}
              - {id: l, type: security}
              - {id: m, type: documentation}
              - {id: n, type: declared_metrics}
            approvals: [{role: reviewer}]
        """
    )
    gates = {g["id"]: g for g in parse_policy(text).gates_for("staging", "production")}
    assert gates["a"] == {
        "id": "a",
        "type": "performance",
        "metric": "auc",
        "compare": "baseline",
        "mode": "non_inferiority",
        "max_drop": 0,
        "confidence": 0.95,
        "threshold": 0.5,
        "bootstrap_samples": 1000,
        "seed": 0,
        "on_inconclusive": "block",
    }
    assert "max_drop" not in gates["b"] and "top_fraction" not in gates["b"]
    assert gates["c"]["use_lower_confidence_bound"] is False and gates["c"]["confidence"] == 0.95
    assert gates["d"]["intersectional"] is False and gates["d"]["min_group_size"] == 30
    assert gates["d"]["small_groups"] == "warn" and "min" not in gates["d"]
    assert gates["e"]["percentile"] == 95 and gates["e"]["use_upper_confidence_bound"] is False
    assert gates["f"]["use_upper_confidence_bound"] is False
    assert gates["g"] == {"id": "g", "type": "cost", "max_per_1k": 1, "on_inconclusive": "block"}
    assert gates["h"]["max_relative_increase"] == 0 and gates["h"]["threshold"] == 0.5
    assert gates["i"] == {
        "id": "i",
        "type": "drift",
        "method": "ks",
        "max_p_value_drift": 0.05,
        "p_adjust": "holm",
        "psi_max": 0.2,
        "bins": 10,
        "max_drifted_features": 0,
        "on_inconclusive": "block",
    }
    assert gates["j"]["max_drop"] == 0.05
    assert gates["k"]["require"] == list(S.REPRODUCIBILITY_FIELDS)
    assert gates["k"]["verify_artifact"] is False
    assert gates["l"]["checks"] == list(S.SECURITY_CHECKS) and gates["l"]["license_deny"] == []
    assert "license_allow" not in gates["l"]
    assert gates["m"]["require"] == list(S.DOCUMENT_KINDS)
    assert gates["n"] == {
        "id": "n",
        "type": "declared_metrics",
        "tolerance": 0.02,
        "threshold": 0.5,
        "on_inconclusive": "block",
    }


# --------------------------------------------------------------------------- schema module


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(S.POLICY_SCHEMA)
    assert S.POLICY_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_matches_gate_spec_parameters():
    expected = {
        "performance": {
            "metric", "compare", "mode", "max_drop", "min_improvement",
            "min_relative_improvement", "confidence", "threshold", "bootstrap_samples",
            "seed", "top_fraction",
        },
        "threshold_metric": {
            "metric", "min", "max", "use_lower_confidence_bound", "confidence", "threshold",
        },
        "fairness": {
            "metric", "sensitive", "min", "max", "intersectional", "min_group_size",
            "small_groups", "threshold", "confidence",
        },
        "latency": {
            "percentile", "max_ms", "confidence", "use_upper_confidence_bound",
            "bootstrap_samples", "seed",
        },
        "error_rate": {"max", "use_upper_confidence_bound", "confidence"},
        "cost": {"max_per_1k"},
        "cost_weighted": {
            "fp_cost", "fn_cost", "threshold", "max_relative_increase", "confidence",
            "bootstrap_samples", "seed",
        },
        "drift": {
            "method", "max_p_value_drift", "p_adjust", "psi_max", "bins", "features",
            "max_drifted_features",
        },
        "robustness": {"max_drop"},
        "reproducibility": {"require", "verify_artifact"},
        "security": {"checks", "license_deny", "license_allow"},
        "documentation": {"require"},
        "declared_metrics": {"metrics", "tolerance", "relative_tolerance", "threshold"},
    }  # fmt: skip
    assert set(S.GATE_TYPES) == set(expected)
    for gate_type, params in expected.items():
        assert set(S.gate_parameters(gate_type)) == params, gate_type
    assert S.gate_parameters("nope") == ()


def test_vocabulary():
    assert V.STAGES == ("draft", "staging", "production", "deprecated", "archived")
    assert "auditor" in S.ROLES and "auditor" not in S.APPROVER_ROLES
    assert "staging->draft" not in S.TRANSITIONS and "production->staging" not in S.TRANSITIONS
    for src, dst in S.TRANSITION_PAIRS:
        assert V.STAGES.index(src) < V.STAGES.index(dst)


def test_body_of_an_unknown_transition_is_still_checked():
    text = VALID.replace("  draft->staging:\n    gates: []", "  draft->stagin:\n    gates: [5]")
    by_path = {i.path: i for i in issues_of(text)}
    assert "did you mean 'staging'?" in by_path["transitions.draft->stagin"].message
    assert by_path["transitions.draft->stagin.gates[0]"].message == "expected a mapping (got 5)"
    assert by_path["transitions.draft->stagin.gates[0]"].line == 17


def test_line_breaks_in_values_and_keys_are_escaped():
    text = VALID.replace("name: demo-policy", 'name: "two\\nlines"\n"bad\\nkey": 1')
    err = pytest.raises(PolicyError, parse_policy, text).value
    assert len(str(err).splitlines()) == len(err.issues) == 2
    assert {i.path for i in err.issues} == {"name", "bad\\nkey"}
