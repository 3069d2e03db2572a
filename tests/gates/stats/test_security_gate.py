"""Tests of the security gate as a whole: the checks combined, the explanation, the caps,
and nothing raw in what it returns."""

from __future__ import annotations

import json

import pytest

from governance.gates.stats.outcome import FAILED, PASSED, GateInputError
from governance.gates.stats.security import security_gate
from tests.gates.stats.security_inputs import AWS_ACCESS, DENY, PASSWORD, comp, gate_json, make_sbom, strong

# ------------------------------------------------------------------------------------
# the gate
# ------------------------------------------------------------------------------------


def test_gate_passes_when_everything_is_clean():
    result = security_gate(
        sbom=make_sbom(),
        licenses=None,
        text_files={"config.yaml": "lr: 0.01\nseed: 42\n"},
        feature_samples={"age": ["31", "45"], "income": [1000.0, 2000.5]},
        license_deny=DENY,
        license_allow=None,
    )
    assert result.status == PASSED and result.passed
    assert result.metric == "security_findings"
    assert result.value == 0 and result.threshold == 0
    assert result.groups == {
        "sbom": {"findings": 0, "by_kind": {}},
        "licenses": {"findings": 0, "by_kind": {}},
        "secrets": {"findings": 0, "by_kind": {}},
        "pii": {"findings": 0, "by_kind": {}, "by_column": {}},
    }
    assert result.explanation == (
        "sbom: 0 SBOM problems; licenses: 0 licence problems in 2 components from the "
        "SBOM; secrets: 0 secrets in 1 file; pii: 0 PII values in 2 columns → passed"
    )
    json.dumps(result.to_dict())


def test_gate_fails_and_explains_each_check():
    config = f"a: 1\nb: 2\nkey_id: {AWS_ACCESS}\nc: 3\nd: 4\ne: 5\npassword: {PASSWORD}\n"
    result = security_gate(
        checks=["licenses", "secrets", "pii"],
        sbom=None,
        licenses=[comp("GPL-3.0"), comp("MIT", "ok", "1")],
        text_files={"config.yaml": config},
        feature_samples={"email": ["a@example.com"]},
        license_deny=DENY,
        license_allow=None,
    )
    assert result.status == FAILED
    assert result.value == 4
    assert result.groups["secrets"] == {
        "findings": 2,
        "by_kind": {"aws_access_key": 1, "password_assignment": 1},
    }
    assert result.groups["licenses"]["findings"] == 1
    assert "sbom" not in result.groups
    expl = result.explanation
    assert "licenses: 1 licence problem in 2 components from the licences artifact" in expl
    assert "(licence GPL-3.0 denied for libfoo 1.2)" in expl
    assert (
        "secrets: 2 secrets in 1 file (config.yaml line 3 aws_access_key; config.yaml line 7 password_assignment)"
    ) in expl
    assert "pii: 1 PII value in 1 column (email in email row 0)" in expl
    assert expl.endswith("→ failed")
    dumped = gate_json(result)
    for raw in (AWS_ACCESS, PASSWORD, "a@example.com"):
        assert raw not in dumped
    kinds = [f["kind"] for f in result.details["findings"]]
    assert kinds == ["license_denied", "aws_access_key", "password_assignment", "email"]


def test_gate_missing_sbom_and_licence_evidence():
    result = security_gate(checks=["sbom", "licenses"], license_deny=DENY)
    assert result.status == FAILED
    assert result.groups["sbom"]["by_kind"] == {"sbom_missing": 1}
    assert result.groups["licenses"]["by_kind"] == {"license_evidence_missing": 1}


def test_gate_takes_licences_from_sbom_when_no_artifact():
    sbom = make_sbom()
    sbom["components"][0]["licenses"] = [{"license": {"id": "AGPL-3.0-or-later"}}]
    result = security_gate(checks=["licenses"], sbom=sbom, license_deny=DENY)
    assert result.status == FAILED
    assert "licence AGPL-3.0-or-later denied for numpy 1.26.4" in result.explanation
    # a separate licences artifact takes precedence over the SBOM
    result = security_gate(checks=["licenses"], sbom=sbom, licenses=[comp("MIT")], license_deny=DENY)
    assert result.status == PASSED


def test_gate_invalid_sbom_names_paths():
    result = security_gate(checks=["sbom"], sbom=make_sbom(bomFormat="SPDX"))
    assert result.status == FAILED
    assert "$.bomFormat: must be 'CycloneDX'" in result.explanation


def test_gate_caps_details_but_counts_everything():
    lines = "\n".join(f"svc{i}_token: {strong(40)}" for i in range(150))
    result = security_gate(checks=["secrets"], text_files={"big.txt": lines})
    assert result.value == 150
    assert len(result.details["findings"]) == 100
    assert result.details["findings_truncated"] is True
    assert "… 145 more" in result.explanation


@pytest.mark.parametrize(
    "checks",
    [["sbom", "antivirus"], [], "secrets", 3],
    ids=["unknown", "empty", "str", "int"],
)
def test_gate_rejects_bad_checks(checks):
    with pytest.raises(GateInputError):
        security_gate(checks=checks)


def test_gate_without_inputs_to_scan_reports_zero_scanned():
    result = security_gate(checks=["secrets", "pii"])
    assert result.status == PASSED
    assert "0 files" in result.explanation and "0 columns" in result.explanation
