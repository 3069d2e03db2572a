"""A CI job's view: only `govern` in subprocesses, against a live server and the real worker.

Set-up (people, team, model, policy, tokens) goes through the services, as an admin would;
everything a pipeline does is the CLI; the two approvers decide with their own tokens
through the HTTP API.
"""

from __future__ import annotations

import hashlib
import json

import httpx
import numpy as np
import pytest

from governance.accounts.models import ApiToken
from governance.policies.services import policy_publish
from governance.registry.models import ModelVersion
from tests.client.conftest import run_govern
from tests.factories import grant, make_model, make_team, make_user, predictions_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

POLICY = """
name: cli-e2e
applies_to: {models: [cli-churn]}
transitions:
  draft->staging:
    gates:
      - {id: p95_latency, type: latency, percentile: 95, max_ms: 150}
    approvals: []
  staging->production:
    gates:
      - {id: auc_not_worse, type: performance, metric: auc, max_drop: 0.05}
      - {id: p95_latency, type: latency, percentile: 95, max_ms: 150}
      - {id: supply_chain, type: security, checks: [sbom]}
    approvals: [{role: risk_officer}, {role: compliance_officer}]
"""

SBOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "version": 1,
    "components": [
        {"type": "library", "name": "numpy", "version": "2.4.6", "licenses": [{"license": {"id": "BSD-3-Clause"}}]},
    ],
}


def _evidence(tmp_path, name: str, *, latency_scale: float) -> dict[str, str]:
    """Predictions, latency (gamma, p95 about 15.5 x scale ms) and an SBOM, written as files."""
    rng = np.random.default_rng(3)
    files = {
        "predictions": ("predictions.csv", predictions_csv(1500, quality=1.4, baseline_quality=1.2)),
        "latency": (
            "latency.csv",
            ("latency_ms\n" + "".join(f"{v:.2f}\n" for v in rng.gamma(4, latency_scale, 1500))).encode(),
        ),
        "sbom": ("sbom.json", json.dumps(SBOM).encode()),
    }
    paths = {}
    for kind, (filename, data) in files.items():
        path = tmp_path / name / filename
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        paths[kind] = str(path)
    return paths


def _register(cli, n: int) -> str:
    digest = hashlib.sha256(f"cli-churn-{n}".encode()).hexdigest()
    result = cli(
        "register",
        "cli-churn",
        "--artifact-uri",
        f"s3://models/cli-churn/{n}",
        "--artifact-sha256",
        digest,
        "--code-hash",
        digest[:40],
        "--data-snapshot",
        "snap-2026-12",
        "--seed",
        "7",
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_pipeline_drives_a_version_to_production_with_govern_alone(live_server, stopped_celery_worker, tmp_path):
    team = make_team("ml")
    people = {name: make_user(name) for name in ("pipeline", "risk", "compliance")}
    grant(people["pipeline"], "mlops", team=team)
    grant(people["risk"], "risk_officer", team=team)
    grant(people["compliance"], "compliance_officer", team=team)
    make_model("cli-churn", team=team, risk_tier="high")
    policy_publish(text=POLICY)
    tokens = {name: ApiToken.issue(user=user)[1] for name, user in people.items()}
    url = live_server.url

    def cli(*args):
        return run_govern(*args, url=url, token=tokens["pipeline"])

    wait = ["--wait", "--timeout", "30", "--interval", "0.3"]

    # A bad input is refused by the server, named by field, exit 2.
    bad = cli(
        *["register", "cli-churn", "--artifact-uri", "s3://x", "--artifact-sha256", "abc"],
        *["--code-hash", "c", "--data-snapshot", "s", "--seed", "1"],
    )
    assert bad.returncode == 2 and "artifact_sha256" in bad.stderr and len(bad.stderr.splitlines()) == 1, bad.stderr

    # Register v1 and upload its evidence.
    assert _register(cli, 1) == "1"
    for kind, path in _evidence(tmp_path, "v1", latency_scale=6).items():
        result = cli("upload", "cli-churn", "1", kind, path)
        assert result.returncode == 0 and "sha256" in result.stdout, result.stderr

    # No worker runs yet: a short --timeout ends with exit 3, the request still open.
    timed_out = cli("promote", "cli-churn", "1", "--to", "staging", "--wait", "--timeout", "1", "--interval", "0.3")
    assert timed_out.returncode == 3, (timed_out.stdout, timed_out.stderr)
    assert "timed out after 1 s" in timed_out.stderr and "awaiting_gates" in timed_out.stderr
    request_id = timed_out.stdout.split()[1].rstrip(":")

    # The worker starts; waiting on the same request sees its gate pass and the move (no approvals).
    stopped_celery_worker.start()
    staged = cli("status", request_id, *wait)
    assert staged.returncode == 0, (staged.stdout, staged.stderr)
    assert "status: promoted" in staged.stdout and "p95_latency" in staged.stdout

    # A dry run (computed by the worker) of the next move: it would pass, exit 0.
    dry = cli("dry-run", "cli-churn", "1", "--to", "production", "--timeout", "60", "--interval", "0.3")
    assert dry.returncode == 0 and "verdict: would pass" in dry.stdout, (dry.stdout, dry.stderr)

    # staging -> production: the gate table as outcomes arrive, then the approvals needed.
    promoted = cli("promote", "cli-churn", "1", "--to", "production", "--ticket", "CHG-7", *wait)
    assert promoted.returncode == 0, (promoted.stdout, promoted.stderr)
    out = promoted.stdout
    assert "GATE" in out and "STATUS" in out
    for gate in ("auc_not_worse", "p95_latency", "supply_chain"):
        row = next(line for line in out.splitlines() if line.startswith(gate))
        assert " passed " in row, row
    assert "status: awaiting_approvals" in out
    assert "approvals still needed: risk_officer, compliance_officer" in out
    production_id = out.split()[1].rstrip(":")

    # A wrong token: exit 2, one line naming the authentication failure.
    denied = run_govern("status", production_id, url=url, token="gov_not-a-token")
    assert denied.returncode == 2 and "authentication_failed (HTTP 401)" in denied.stderr, denied.stderr
    assert len(denied.stderr.splitlines()) == 1

    # Two approvers decide with their personal tokens; the version is in production.
    for name in ("risk", "compliance"):
        response = httpx.post(
            f"{url}/api/v1/promotions/{production_id}/decisions/",
            headers={"Authorization": f"Token {tokens[name]}"},
            json={"decision": "approve", "reason": "Gates pass.", "ticket_id": "CHG-7", "risk_class": "medium"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
    final = cli("status", production_id, "--json")
    assert final.returncode == 0, final.stderr
    body = json.loads(final.stdout)
    assert body["status"] == "promoted" and {a["user"] for a in body["approvals"]} == {"risk", "compliance"}
    assert ModelVersion.objects.get(model__name="cli-churn", version=1).stage == "production"

    # A slow version: its latency gate fails, exit 1, the reason on stderr.
    assert _register(cli, 2) == "2"
    for kind, path in _evidence(tmp_path, "v2", latency_scale=60).items():
        assert cli("upload", "cli-churn", "2", kind, path).returncode == 0
    assert cli("dry-run", "cli-churn", "2", "--to", "staging", "--timeout", "60", "--interval", "0.3").returncode == 1
    failed = cli("promote", "cli-churn", "2", "--to", "staging", *wait)
    assert failed.returncode == 1, (failed.stdout, failed.stderr)
    row = next(line for line in failed.stdout.splitlines() if line.startswith("p95_latency"))
    assert " failed " in row, row
    assert "gates_failed" in failed.stderr and "p95_latency" in failed.stderr
