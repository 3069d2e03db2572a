"""`govern import-mlflow` in a subprocess, as a CI job runs it, against a live server and a
real local MLflow file store written with the MLflow client library."""

from __future__ import annotations

import hashlib
import json

import pytest

from governance.accounts.models import ApiToken
from governance.evidence.models import Artifact, Document
from governance.registry.models import ModelVersion
from tests.client.conftest import run_govern
from tests.factories import grant, make_model, make_team, make_user, predictions_csv
from tests.imports.mlflow_store import COMMIT, METRICS, PARAMS, SBOM, log_run

pytestmark = pytest.mark.django_db(transaction=True)


def _store(tmp_path, monkeypatch, *runs: dict):
    """Runs logged into a file store; then the variable MLflow 3 needs to write file stores is
    unset again, so `govern` must open the store for reading on its own."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = tmp_path / "mlruns"
    logged = [log_run(store, **run) for run in runs]
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")
    return logged


def test_a_pipeline_imports_an_mlflow_run_with_govern(live_server, tmp_path, monkeypatch):
    team = make_team("retention")
    pipeline = make_user("pipeline")
    grant(pipeline, "mlops", team=team)
    make_model("churn", team=team)
    token = ApiToken.issue(user=pipeline)[1]
    logged, second = _store(tmp_path, monkeypatch, {}, {"artifacts": {"holdout/scores.csv": predictions_csv(300)}})

    def cli(*args):
        return run_govern("import-mlflow", *args, url=live_server.url, token=token, timeout=120)

    result = cli("--tracking-uri", logged.tracking_uri, "--run-id", logged.run_id, "--model", "churn")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == f"churn v1 registered from MLflow run {logged.run_id} (experiment churn)"
    assert "evidence  predictions" in out and "eval/predictions.csv" in out
    assert "document  model_card" in out and "skipped   notes.txt" in out
    assert f"page: {live_server.url}/models/churn/v1/" in out

    version = ModelVersion.objects.get(model__name="churn", version=1)
    assert version.code_hash == COMMIT and version.training_config == PARAMS
    assert version.source["mlflow"]["run_id"] == logged.run_id
    assert version.source["mlflow"]["experiment_id"] == logged.experiment_id
    assert version.source["mlflow"]["tracking_uri"] == logged.tracking_uri
    kinds = {a.kind: a for a in Artifact.objects.filter(version=version)}
    assert set(kinds) == {"metrics", "predictions", "sbom", "latency"}
    assert kinds["metrics"].data == METRICS and kinds["sbom"].data == SBOM
    assert kinds["predictions"].blob_id == hashlib.sha256(logged.files["eval/predictions.csv"]).hexdigest()
    assert Document.objects.filter(version=version, kind="model_card").count() == 1

    # The same run again: the server's 409 in one line, exit 2, nothing new.
    again = cli("--tracking-uri", logged.tracking_uri, "--run-id", logged.run_id, "--model", "churn")
    assert again.returncode == 2 and len(again.stderr.splitlines()) == 1, again.stderr
    assert "conflict (HTTP 409)" in again.stderr and "already imported as churn v1" in again.stderr

    # A second run with --json and an explicit mapping: machine-readable output.
    as_json = cli(
        *["--tracking-uri", logged.tracking_uri, "--run-id", second.run_id, "--model", "churn"],
        *["--kind", "holdout/scores.csv=predictions", "--json"],
    )
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["version"] == 2 and body["source"]["mlflow"]["run_id"] == second.run_id
    assert {(e["path"], e["kind"]) for e in body["evidence"]} == {
        ("mlflow-metrics.json", "metrics"),
        ("holdout/scores.csv", "predictions"),
    }
    assert ModelVersion.objects.filter(model__name="churn").count() == 2
