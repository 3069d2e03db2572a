"""Issue 12 end to end on the real Celery worker: the worker fetches the version's artifact
from an S3-compatible server (moto's server mode, standing in for AWS) to verify its sha256,
and gates the declared metrics against the ones it recomputes from the predictions."""

from __future__ import annotations

import hashlib
import io
import json
import uuid

import boto3
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from governance.approvals.models import PromotionRequest, RequestStatus
from governance.approvals.services import promotion_request
from governance.gates.models import GateRun
from governance.policies.services import policy_publish
from tests.conftest import wait_for
from tests.factories import grant, make_model, make_team, make_user, make_version, predictions_csv, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

POLICY = """
name: artifacts-and-numbers
applies_to: {models: [scoring]}
transitions:
  staging->production:
    gates:
      - {id: repro, type: reproducibility, verify_artifact: true}
      - {id: numbers, type: declared_metrics, metrics: [auc], tolerance: 0.02}
    approvals: [{role: risk_officer}]
"""

WEIGHTS = b"serialized booster " * 40_000  # 760 KB: the worker reads it in chunks


def test_the_worker_fetches_the_s3_artifact_and_gates_the_declared_numbers(
    stopped_celery_worker, make_worker, monkeypatch, s3_endpoint
):
    # The worker reads its settings from its environment (tests/conftest.py _worker_env
    # copies os.environ): the endpoint and the AWS_* credentials set by s3_endpoint.
    monkeypatch.setenv("ARTIFACT_S3_ENDPOINT_URL", s3_endpoint)
    make_worker("artifact-worker")

    bucket = f"registry-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="scoring/v1/model.bin", Body=WEIGHTS)

    team = make_team("scoring-team")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    model = make_model("scoring", team=team, risk_tier="regulated")
    uri = f"s3://{bucket}/scoring/v1/model.bin"
    version = make_version(
        model, owner, stage="staging", artifact_uri=uri, artifact_sha256=hashlib.sha256(WEIGHTS).hexdigest()
    )
    table = predictions_csv(2000, quality=1.4)
    upload(owner, version, "predictions", table, "predictions.csv")
    upload(owner, version, "metrics", json.dumps({"auc": 0.81, "log_loss": 0.4}).encode(), "metrics.json")
    policy_publish(text=POLICY, reason="test")

    request = promotion_request(user=owner, version=version, to_stage="production", justification="refresh")
    final = wait_for(
        lambda: (r := PromotionRequest.objects.get(pk=request.pk)).status != RequestStatus.AWAITING_GATES and r,
        timeout=90,
        message="gates to finish on the worker",
    )
    runs = {run.gate_id: run for run in GateRun.objects.filter(request=request)}

    repro = runs["repro"].outcome
    assert runs["repro"].status == "passed", repro["explanation"]
    assert f"artifact sha256 verified (fetched from {uri} (742.2 KiB in" in repro["explanation"]
    assert repro["inputs"] == {"artifact:uri": hashlib.sha256(WEIGHTS).hexdigest()}

    data = np.genfromtxt(io.BytesIO(table), delimiter=",", names=True, dtype=None, encoding="utf-8")
    auc = roc_auc_score(data["y_true"], data["y_score"])
    numbers = runs["numbers"].outcome
    assert runs["numbers"].status == "failed"
    assert numbers["explanation"] == (
        f"The reported metric does not match the evidence: declared auc 0.81, recomputed {auc:.3f} "
        "(tolerance 0.02) → failed"
    )
    assert numbers["value"] == pytest.approx(abs(0.81 - auc), abs=1e-9)
    assert set(numbers["inputs"]) == {"metrics", "predictions"}
    assert final.status == RequestStatus.GATES_FAILED
