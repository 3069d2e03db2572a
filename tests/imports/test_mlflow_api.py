"""POST /api/v1/models/{name}/versions/import-mlflow/ against runs in a real local MLflow
file store: the run is read by the client's reader (client/govern/mlflow.py), as the CLI
does, and posted with the DRF test client."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from governance.audit.models import AuditEvent
from governance.audit.sentences import event_sentence
from governance.core.canonical import canonical_json_sha256
from governance.evidence.documents import document_missing_fields
from governance.evidence.models import Artifact, Blob, Document, QueuedUpload
from governance.registry.models import ModelVersion
from tests.client.conftest import CLIENT  # noqa: F401  (puts client/ on sys.path)
from tests.factories import api_client, predictions_csv
from tests.imports.mlflow_store import COMMIT, METRICS, PARAMS, SBOM, log_run

from govern.mlflow import RunReader, read_run  # isort: skip

pytestmark = pytest.mark.django_db


def _payload(logged, tmp_path: Path, **options) -> tuple[dict, dict[str, Path]]:
    workdir = tmp_path / f"work-{logged.run_id}"
    return read_run(RunReader(logged.tracking_uri), logged.run_id, workdir, **options)


def _post(api, model_name: str, payload: dict, files: dict[str, Path], **headers):
    body = {"run": json.dumps(payload)}
    for path, local in files.items():
        upload = io.BytesIO(local.read_bytes())
        upload.name = local.name
        body[path] = upload
    return api.post(f"/api/v1/models/{model_name}/versions/import-mlflow/", body, format="multipart", **headers)


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _sha256sum_listing(directory: Path) -> str:
    """The documented recipe, run by the shell: sha256 of the directory's sha256sum listing."""
    command = "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum"
    out = subprocess.run(["bash", "-c", command], cwd=directory, capture_output=True, text=True, check=True)
    return out.stdout.split()[0]


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 writes file stores only when told
    return tmp_path / "mlruns"


def test_it_registers_the_run_as_a_version_with_its_lineage_and_evidence(alice, model, store, tmp_path):
    logged = log_run(store)
    payload, files = _payload(logged, tmp_path)
    response = _post(api_client(alice), model.name, payload, files)
    assert response.status_code == 201, response.content
    body = response.json()

    version = ModelVersion.objects.get(model=model, version=body["version"])
    assert version.code_hash == COMMIT
    assert version.training_config == PARAMS  # MLflow params are text; kept as logged
    assert version.training_config_sha256 == canonical_json_sha256(PARAMS)
    assert version.seed == 1234
    assert version.data_snapshot_id == "churn-2026-06"
    assert version.framework == "sklearn 1.5.2"
    model_dir = Path(logged.artifact_uri.removeprefix("file://")) / "model"
    assert version.artifact_uri == f"{logged.artifact_uri}/model"
    assert version.artifact_sha256 == _sha256sum_listing(model_dir)
    mlflow = version.source["mlflow"]
    assert mlflow["run_id"] == logged.run_id and mlflow["experiment_id"] == logged.experiment_id
    assert mlflow["experiment_name"] == "churn" and mlflow["run_name"] == "nightly-churn"
    assert mlflow["tracking_uri"] == logged.tracking_uri and mlflow["artifact_uri"] == logged.artifact_uri
    assert body["source"] == version.source

    artifacts = {a.kind: a for a in Artifact.objects.filter(version=version)}
    assert set(artifacts) == {"metrics", "predictions", "sbom", "latency"}
    assert artifacts["metrics"].data == METRICS and artifacts["metrics"].original_name == "mlflow-metrics.json"
    predictions = artifacts["predictions"]
    assert predictions.row_count == 400 and predictions.original_name == "predictions.csv"
    assert predictions.blob_id == hashlib.sha256(logged.files["eval/predictions.csv"]).hexdigest()
    assert artifacts["sbom"].data == SBOM
    assert artifacts["latency"].row_count == 300
    card = Document.objects.get(version=version, kind="model_card")
    assert card.content.startswith("# Churn model card")
    assert document_missing_fields("model_card", card.fields, card.content) == []

    assert {(e["path"], e["kind"]) for e in body["evidence"]} == {
        ("mlflow-metrics.json", "metrics"),
        ("eval/predictions.csv", "predictions"),
        ("sbom.cdx.json", "sbom"),
        ("latency.csv", "latency"),
    }
    assert body["documents"] == [{"path": "docs/model_card.md", "kind": "model_card", "revision": 1}]
    assert [s["path"] for s in body["skipped"]] == ["notes.txt"]
    assert "--kind notes.txt=KIND" in body["skipped"][0]["reason"]
    registered = AuditEvent.objects.get(action="version.registered", model_name=model.name)
    assert registered.data["source"]["mlflow"]["run_id"] == logged.run_id
    sentence = event_sentence(registered)
    assert sentence.startswith("Alice registered credit-scoring v1 (artifact sha256 ")
    assert f"), imported from MLflow run {logged.run_id} (experiment 'churn')." in sentence

    browser = Client()
    browser.force_login(alice)
    page = browser.get(f"/models/{model.name}/v{version.version}/").content.decode()
    for shown in ("MLflow run", logged.run_id, "nightly-churn", logged.experiment_id, logged.tracking_uri):
        assert shown in page, shown


def test_an_mlflow_3_logged_model_is_the_versions_artifact(alice, model, store, tmp_path):
    logged = log_run(store, logged_model=True)
    payload, files = _payload(logged, tmp_path)
    response = _post(api_client(alice), model.name, payload, files)
    assert response.status_code == 201, response.content
    version = ModelVersion.objects.get(model=model)
    mlflow = version.source["mlflow"]
    assert mlflow["model_id"].startswith("m-")
    location = f"{store.resolve().as_uri()}/{logged.experiment_id}/models/{mlflow['model_id']}/artifacts"
    assert version.artifact_uri == mlflow["model_uri"] == location
    assert version.artifact_sha256 == _sha256sum_listing(Path(location.removeprefix("file://")))
    assert version.framework == "sklearn 1.5.2"


def test_a_bad_artifact_rolls_the_whole_import_back(alice, model, store, tmp_path):
    files_before = _stored_files()
    events_before = AuditEvent.objects.count()
    bad_predictions = b"y_true,score\n1,0.9\n0,0.2\n"  # no y_score column
    logged = log_run(
        store,
        artifacts={
            "bom/sbom.json": json.dumps(SBOM).encode(),  # valid: stored (after the run's metrics), then removed
            "eval/predictions.csv": bad_predictions,
        },
    )
    payload, files = _payload(logged, tmp_path)
    response = _post(api_client(alice), model.name, payload, files)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert list(error["fields"]) == ["artifacts.eval/predictions.csv"]
    assert "y_score" in error["message"]
    assert not ModelVersion.objects.filter(model=model).exists()
    assert not Artifact.objects.exists() and not Document.objects.exists() and not Blob.objects.exists()
    assert AuditEvent.objects.count() == events_before
    assert _stored_files() == files_before


def test_the_same_run_imported_twice_is_a_conflict_naming_the_version(alice, model, store, tmp_path):
    logged = log_run(store)
    payload, files = _payload(logged, tmp_path)
    api = api_client(alice)
    assert _post(api, model.name, payload, files).status_code == 201
    again = _post(api, model.name, payload, files)
    assert again.status_code == 409, again.content
    error = again.json()["error"]
    assert error["code"] == "conflict" and "credit-scoring v1" in error["message"]
    assert error["fields"] == {"run.run_id": ["Already imported as credit-scoring v1."]}
    assert ModelVersion.objects.filter(model=model).count() == 1


def test_an_idempotency_key_replays_the_first_answer(alice, model, store, tmp_path):
    logged = log_run(store)
    payload, files = _payload(logged, tmp_path)
    api = api_client(alice)
    first = _post(api, model.name, payload, files, HTTP_IDEMPOTENCY_KEY="ci-run-77")
    second = _post(api, model.name, payload, files, HTTP_IDEMPOTENCY_KEY="ci-run-77")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and second.json() == first.json()
    assert ModelVersion.objects.filter(model=model).count() == 1


def test_explicit_kinds_map_and_skip_artifacts(alice, model, store, tmp_path):
    logged = log_run(
        store,
        artifacts={
            "scores/holdout.csv": predictions_csv(300),
            "predictions.csv": predictions_csv(200, seed=4),
            "notes.txt": b"free text\n",
        },
    )
    kinds = {"scores/holdout.csv": "predictions", "predictions.csv": "skip", "notes.txt": "attachment"}
    payload, files = _payload(logged, tmp_path, kinds=kinds)
    response = _post(api_client(alice), model.name, payload, files)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {(e["path"], e["kind"]) for e in body["evidence"]} >= {
        ("scores/holdout.csv", "predictions"),
        ("notes.txt", "attachment"),
    }
    assert body["skipped"] == [{"path": "predictions.csv", "reason": "skipped by --kind"}]
    assert Artifact.objects.get(version__model=model, kind="predictions").row_count == 300


def test_a_non_finite_metric_is_listed_as_skipped(alice, model, store, tmp_path):
    logged = log_run(store, metrics={"auc": 0.91, "calibration_error": float("nan")}, artifacts={})
    payload, files = _payload(logged, tmp_path)
    response = _post(api_client(alice), model.name, payload, files)
    assert response.status_code == 201, response.content
    assert Artifact.objects.get(version__model=model, kind="metrics").data == {"auc": 0.91}
    assert response.json()["skipped"] == [{"path": "metrics/calibration_error", "reason": "not a finite number"}]


@pytest.mark.parametrize(
    "change,field",
    [
        (lambda p: p["tags"].pop("mlflow.source.git.commit"), "run.tags.mlflow.source.git.commit"),
        (lambda p: p.update(run_id="../etc"), "run.run_id"),
        (lambda p: p.pop("experiment_id"), "run.experiment_id"),
        (lambda p: p["model"].update(sha256="abc"), "run.model.sha256"),
        (lambda p: p.update(params={"lr": 0.1}), "run.params.lr"),
        (lambda p: p.update(kinds={"nowhere.csv": "predictions"}), "run.kinds.nowhere.csv"),
        (lambda p: p.update(kinds={"notes.txt": "spreadsheet"}), "run.kinds.notes.txt"),
        (lambda p: p.update(kinds={"notes.txt": "predictions"}), "run.kinds"),  # two predictions
    ],
)
def test_a_bad_run_is_a_400_naming_the_field_and_writes_nothing(alice, model, store, tmp_path, change, field):
    logged = log_run(store)
    payload, files = _payload(logged, tmp_path)
    change(payload)
    response = _post(api_client(alice), model.name, payload, files)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    assert not ModelVersion.objects.filter(model=model).exists()


def test_a_missing_or_unreadable_run_part_is_a_400(alice, model):
    api = api_client(alice)
    url = f"/api/v1/models/{model.name}/versions/import-mlflow/"
    missing = api.post(url, {"x": "1"}, format="multipart")
    assert missing.status_code == 400 and "run" in missing.json()["error"]["fields"]
    broken = api.post(url, {"run": "{not json"}, format="multipart")
    assert broken.status_code == 400 and "run" in broken.json()["error"]["fields"]


def test_people_without_the_register_right_cannot_import(bob, charlie, model, store, tmp_path):
    logged = log_run(store)
    payload, files = _payload(logged, tmp_path)
    assert _post(api_client(bob), model.name, payload, files).status_code == 403  # reviewer: sees, may not register
    assert _post(api_client(charlie), model.name, payload, files).status_code == 404  # no role: cannot see it
    assert not ModelVersion.objects.exists()


def test_the_run_may_come_as_a_file_part_and_artifact_paths_must_be_relative(alice, model, store, tmp_path):
    logged = log_run(store, artifacts={"predictions.csv": predictions_csv(200)})
    payload, files = _payload(logged, tmp_path)
    api = api_client(alice)
    url = f"/api/v1/models/{model.name}/versions/import-mlflow/"
    run_file = io.BytesIO(json.dumps(payload).encode())
    run_file.name = "run.json"
    escaping = io.BytesIO(files["predictions.csv"].read_bytes())
    escaping.name = "predictions.csv"
    refused = api.post(url, {"run": run_file, "../predictions.csv": escaping}, format="multipart")
    assert refused.status_code == 400, refused.content
    assert list(refused.json()["error"]["fields"]) == ["artifacts.../predictions.csv"]
    assert not ModelVersion.objects.exists()

    run_file.seek(0)
    escaping.seek(0)
    accepted = api.post(url, {"run": run_file, "predictions.csv": escaping}, format="multipart")
    assert accepted.status_code == 201, accepted.content
    assert [(e["path"], e["kind"]) for e in accepted.json()["evidence"]] == [
        ("mlflow-metrics.json", "metrics"),
        ("predictions.csv", "predictions"),
    ]


def test_a_large_artifact_is_queued_for_a_worker_like_any_large_upload(alice, model, store, tmp_path, settings):
    settings.EVIDENCE_PARSE_IN_WORKER_BYTES = 5_000  # the 400-row predictions table is 10.7 KB
    logged = log_run(store)
    payload, files = _payload(logged, tmp_path)
    response = _post(api_client(alice), model.name, payload, files)
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(q["path"], q["kind"], q["status"]) for q in body["queued"]] == [
        ("eval/predictions.csv", "predictions", "queued")
    ]
    upload = QueuedUpload.objects.get(version__model=model)
    assert body["queued"][0]["status_url"] == f"/api/v1/evidence/uploads/{upload.pk}/"
    assert upload.sha256 == hashlib.sha256(logged.files["eval/predictions.csv"]).hexdigest()
    assert not Artifact.objects.filter(kind="predictions").exists()  # the worker parses it after commit
    assert {e["kind"] for e in body["evidence"]} == {"metrics", "sbom", "latency"}


def test_a_refusal_after_a_queued_artifact_leaves_no_queued_upload_nor_file(alice, model, store, tmp_path, settings):
    settings.EVIDENCE_PARSE_IN_WORKER_BYTES = 5_000
    files_before = _stored_files()
    logged = log_run(
        store,
        artifacts={"eval/predictions.csv": predictions_csv(400), "sbom.json": b'{"bomFormat": "SPDX"}'},
    )
    payload, files = _payload(logged, tmp_path)
    response = _post(api_client(alice), model.name, payload, files)
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["artifacts.sbom.json"]
    assert not QueuedUpload.objects.exists() and not ModelVersion.objects.exists()
    assert _stored_files() == files_before
