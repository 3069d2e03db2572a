"""`govern promote --wait` and `govern status` with an inconclusive gate: what data would decide
it and who may accept it; exit 0 while it awaits acceptance (awaiting approvals), 1 when the
policy blocks on it (like a failed gate). Live server, real worker, the CLI in subprocesses."""

from __future__ import annotations

import pytest

from governance.accounts.models import ApiToken
from governance.approvals.models import PromotionRequest
from governance.approvals.services import promotion_gate_accept
from governance.policies.services import policy_publish
from tests.client.conftest import run_govern
from tests.factories import grant, make_model, make_team, make_user, make_version, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

POLICY = """
name: cli-inconclusive-{mode}
applies_to: {{models: [cli-{mode}]}}
transitions:
  staging->production:
    gates:
      - {{id: p95, type: latency, percentile: 95, max_ms: 150, use_upper_confidence_bound: true, on_inconclusive: {on}}}
    approvals: [{{role: compliance_officer}}]
"""
NEEDS = "needs at least 72 latency rows (32 more)"


def _staged(team, owner, mode: str, on: str):
    version = make_version(make_model(f"cli-{mode}", team=team), owner, stage="staging")
    upload(
        owner, version, "latency", ("latency_ms\n" + "".join(f"{20 + i % 7}\n" for i in range(40))).encode(), "l.csv"
    )
    policy_publish(text=POLICY.format(mode=mode, on=on))
    return version


def test_promote_wait_shows_what_an_inconclusive_gate_needs_and_exits_by_the_policy(live_server, celery_worker):
    team = make_team("cli-inc")
    owner, risk = make_user("owner"), make_user("rita")
    grant(owner, "model_owner", team=team)
    grant(risk, "risk_officer", team=team)
    _staged(team, owner, "accept", "{accept_by: risk_officer}")
    _staged(team, owner, "block", "block")
    _, key = ApiToken.issue(user=owner)

    def cli(*args):
        return run_govern(*args, url=live_server.url, token=key, timeout=120)

    waiting = cli("promote", "cli-accept", "1", "--to", "production", "--wait", "--timeout", "90")
    assert waiting.returncode == 0, waiting.stderr  # awaiting acceptance is awaiting approvals
    assert "status: awaiting_approvals: Gates inconclusive, awaiting acceptance" in waiting.stdout
    assert f"inconclusive gate p95: {NEEDS}; a risk_officer may accept it (rita)" in waiting.stdout
    assert "approvals still needed: compliance_officer" in waiting.stdout

    blocked = cli("promote", "cli-block", "1", "--to", "production", "--wait", "--timeout", "90")
    assert blocked.returncode == 1  # blocked like a failed gate
    assert f"inconclusive gate p95: {NEEDS}; it blocks the request (on_inconclusive: block)" in blocked.stdout
    assert "gates_failed: Gates inconclusive, blocked by the policy" in blocked.stderr

    request = PromotionRequest.objects.get(version__model__name="cli-accept")
    promotion_gate_accept(user=risk, request=request, gate_id="p95", reason="26 ms is far below 150 ms.")
    status = cli("status", str(request.pk))
    assert status.returncode == 0, status.stderr
    assert "inconclusive gate p95: needs at least 72 latency rows (32 more); accepted by rita (risk_officer): " in (
        status.stdout
    )
    assert "26 ms is far below 150 ms." in status.stdout
    assert "status: awaiting_approvals: All gates passed or were accepted (p95)." in status.stdout
