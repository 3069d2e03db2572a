"""`govern dry-run` (issue 13): the worker computes, the CLI waits for the verdict and maps it
to its exit code: 0 would pass, 1 would fail, 3 timed out (on the worker, or waiting)."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from governance.accounts.models import ApiToken
from governance.gates.models import DryRun
from governance.policies.services import policy_publish
from tests.client.conftest import run_govern
from tests.factories import grant, make_model, make_team, make_user, make_version, predictions_csv, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

POLICY = """
name: cli-dry
applies_to: {models: [cli-dry]}
transitions:
  staging->production:
    gates:
      - {id: auc_not_worse, type: performance, metric: auc, max_drop: 0.05}
      - {id: p95_latency, type: latency, percentile: 95, max_ms: 150}
    approvals: [{role: risk_officer}]
"""


def _latency(n: int, scale: float) -> bytes:
    import numpy as np

    values = np.random.default_rng(2).gamma(4, scale, n)
    return ("latency_ms\n" + "".join(f"{v:.2f}\n" for v in values)).encode()


@pytest.fixture
def pipeline(live_server):
    team = make_team("cli-dry")
    user = make_user("pipeline")
    grant(user, "mlops", team=team)
    model = make_model("cli-dry", team=team)
    for number, scale in ((1, 6.0), (2, 60.0)):  # v2's p95 latency is far over 150 ms
        version = make_version(model, user, stage="staging")
        assert version.version == number
        upload(user, version, "predictions", predictions_csv(1500, quality=1.4, baseline_quality=1.2), "p.csv")
        upload(user, version, "latency", _latency(1500, scale), "latency.csv")
    policy_publish(text=POLICY)
    key = ApiToken.issue(user=user)[1]

    def cli(*args: str):
        return run_govern(*args, url=live_server.url, token=key, timeout=120)

    return cli


def test_it_exits_0_when_the_version_would_pass_and_1_when_it_would_not(pipeline, celery_worker):
    passing = pipeline("dry-run", "cli-dry", "1", "--to", "production", "--interval", "0.2")
    assert passing.returncode == 0, (passing.stdout, passing.stderr)
    assert "verdict: would pass" in passing.stdout and "auc_not_worse" in passing.stdout
    assert "approvals the request would need: risk_officer" in passing.stdout
    failing = pipeline("dry-run", "cli-dry", "2", "--to", "production", "--interval", "0.2", "--json")
    assert failing.returncode == 1, (failing.stdout, failing.stderr)
    body = json.loads(failing.stdout)
    assert body["verdict"] == "fail" and body["failing_gates"] == ["p95_latency"]
    assert failing.stderr.strip() == "govern: cli-dry v2 staging->production would not pass (fail)"


@override_settings(DRY_RUN_TIME_LIMIT_SECONDS=0.02)
def test_it_exits_3_when_the_worker_runs_out_of_time(pipeline, celery_worker):
    result = pipeline("dry-run", "cli-dry", "1", "--to", "production", "--interval", "0.2")
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "verdict: timed out on the worker" in result.stdout
    assert "timed out on the worker" in result.stderr and len(result.stderr.splitlines()) == 1
    assert DryRun.objects.get().status == "timed_out"


@override_settings(DRY_RUN_SYNC_WAIT_SECONDS=0)
def test_it_exits_3_when_its_own_timeout_ends_the_wait(pipeline, stopped_celery_worker):
    result = pipeline("dry-run", "cli-dry", "1", "--to", "production", "--timeout", "1", "--interval", "0.2")
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "timed out after 1 s: dry run" in result.stderr and "is queued" in result.stderr
