"""Bad input is one clear line on stderr and exit code 2, never a traceback (no server needed)."""

from __future__ import annotations

import json
import socket

import pytest
from govern.api import error_line
from govern.output import approvals_needed, gate_row


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def _one_line_error(result, *needles: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("govern: "), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "args, needle",
    [
        ([], "COMMAND"),
        (["frobnicate"], "invalid choice"),
        (["status", "abc"], "REQUEST_ID"),
        (["status", "-3"], "REQUEST_ID"),
        (["promote", "churn", "1"], "--to"),
        (["promote", "churn", "1", "--to", "production", "--timeout", "soon"], "--timeout"),
        (["promote", "churn", "1", "--to", "production", "--timeout", "nan"], "--timeout"),
        (["register", "churn", "--artifact-uri", "s3://x"], "required"),
        (["upload", "churn", "1", "predictions"], "FILE"),
    ],
)
def test_usage_errors_exit_2_in_one_line(govern, args, needle):
    _one_line_error(govern(*args, url="http://127.0.0.1:1", token="t"), needle)


def test_missing_configuration_is_named(govern):
    _one_line_error(govern("status", "1"), "GOVERNANCE_URL is not set")
    _one_line_error(govern("status", "1", url="http://127.0.0.1:1"), "GOVERNANCE_TOKEN is not set")
    _one_line_error(govern("status", "1", url="ftp://example", token="t"), "http:// or https://")
    _one_line_error(govern("status", "1", url="http://127.0.0.1:1", token="two words"), "GOVERNANCE_TOKEN")


def test_a_server_that_is_not_there_is_a_connection_error(govern):
    result = govern("dry-run", "churn", "1", "--to", "staging", url=f"http://127.0.0.1:{_closed_port()}", token="t")
    _one_line_error(result, "cannot reach", "ConnectError")


def test_local_files_are_checked_before_anything_is_sent(govern, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}"
    _one_line_error(
        govern("upload", "churn", "1", "predictions", str(tmp_path / "nope.csv"), url=url, token="t"), "no file"
    )
    bad = tmp_path / "config.json"
    bad.write_text("{lr: 0.1")
    base = ["register", "churn", "--artifact-uri", "s3://m", "--artifact-sha256", "0" * 64, "--code-hash", "abc"]
    base += ["--data-snapshot", "snap", "--seed", "7", "--training-config"]
    _one_line_error(govern(*base, str(bad), url=url, token="t"), "not valid JSON")
    bad.write_text("[1, 2]")
    _one_line_error(govern(*base, str(bad), url=url, token="t"), "JSON object")


def test_json_mode_prints_the_error_object_on_stdout(govern):
    result = govern("status", "1", "--json")
    assert result.returncode == 2
    body = json.loads(result.stdout)
    assert body["exit_code"] == 2 and body["error"]["code"] == "client_error"
    assert "GOVERNANCE_URL" in body["error"]["message"]


def test_api_errors_name_the_field():
    validation = {
        "code": "invalid",
        "message": "artifact_sha256: Expected 64 hex characters (sha256).",
        "fields": {"artifact_sha256": ["Expected 64 hex characters (sha256)."]},
    }
    assert error_line(400, validation) == "invalid (HTTP 400): artifact_sha256: Expected 64 hex characters (sha256)."
    domain = {"code": "invalid", "message": "No team 'x'.", "fields": {"team": ["No team 'x'."]}}
    assert error_line(400, domain) == "invalid (HTTP 400): No team 'x'. (field: team)"
    other = {"code": "invalid_transition", "message": "Cannot move.", "fields": {"to_stage": ["Pick staging."]}}
    assert error_line(400, other) == "invalid_transition (HTTP 400): Cannot move. (to_stage: Pick staging.)"
    assert error_line(401, {"code": "authentication_failed", "message": "Invalid token."}).startswith(
        "authentication_failed (HTTP 401)"
    )


def test_a_gate_row_and_the_open_slots():
    row = gate_row(
        {
            "gate_id": "p95",
            "type": "latency",
            "status": "failed",
            "metric": "latency_p95_ms",
            "value": 187.25,
            "threshold": 120,
            "ci_low": 180.0,
            "ci_high": 195.5,
            "explanation": "p95 latency 187 ms over the 120 ms budget",
        }
    )
    assert row.split()[:6] == ["p95", "latency", "failed", "latency_p95_ms", "187.2", "120"]
    assert "[180, 195.5]" in row and row.endswith("budget")
    slots = [
        {"role": "risk_officer", "filled_by": None},
        {"role": "reviewer", "filled_by": "lead"},
        {"role": "reviewer", "filled_by": None},
        {"role": "domain_expert", "filled_by": None},
        {"role": "domain_expert", "filled_by": None},
    ]
    assert approvals_needed({"slots": slots}) == ["risk_officer", "reviewer", "domain_expert x2"]


def test_an_ascii_only_ci_log_gets_no_traceback(govern, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONIOENCODING", "ascii")
    result = govern(
        "upload", "churn", "1", "predictions", str(tmp_path / "données→.csv"), url="http://127.0.0.1:1", token="t"
    )
    _one_line_error(result, "no file", "donn?es?.csv")
