"""A real local MLflow file store, written with the MLflow client library (mlflow-skinny),
holding runs as a training job logs them: params, metrics, tags, a model directory and
evidence artifacts."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from tests.factories import predictions_csv

COMMIT = "3f2c1a9e8b7d6c5f4e3d2c1b0a99887766554433"
PARAMS = {"learning_rate": "0.05", "max_depth": "6", "n_estimators": "400", "seed": "1234"}
METRICS = {"auc": 0.9412, "ks": 0.71, "log_loss": 0.2931}
SBOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "version": 1,
    "components": [
        {"type": "library", "name": "numpy", "version": "2.4.6", "licenses": [{"license": {"id": "BSD-3-Clause"}}]},
        {"type": "library", "name": "xgboost", "version": "2.1.0", "licenses": [{"license": {"id": "Apache-2.0"}}]},
    ],
}
MODEL_CARD = """# Churn model card

## Intended use
Rank subscribers by churn risk for the retention team's weekly call list.

## Out-of-scope uses
Pricing or credit decisions.

## Training data
Subscriber activity 2024-01 to 2026-06, snapshot churn-2026-06 (1.2 M rows).

## Evaluation data
Out-of-time sample 2026-07 to 2026-09.

## Metrics
AUC 0.94 on the out-of-time sample; KS 0.71.

## Ethical considerations
Age band and gender are not features; parity of call-list rates is monitored.

## Limitations
Not validated for business accounts.

## Human oversight
The retention team lead reviews the list before calls are made.

## Feature use constraints
None.

## Owners and contacts
Retention analytics, retention-ml@example.test
"""
MLMODEL = """artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    python_version: 3.11.9
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.5.2
mlflow_version: 3.17.2
"""


@dataclass
class LoggedRun:
    tracking_uri: str
    run_id: str
    experiment_id: str
    artifact_uri: str
    files: dict[str, bytes] = field(default_factory=dict)  # artifact path -> bytes logged


def log_run(
    store: Path,
    *,
    experiment: str = "churn",
    tags: dict | None = None,
    params: dict | None = None,
    metrics: dict | None = None,
    artifacts: dict[str, bytes] | None = None,
    model: bool = True,
    logged_model: bool = False,
    predictions_rows: int = 400,
) -> LoggedRun:
    """A finished run in the file store at `store`, logged through MlflowClient (MLflow 3
    writes file stores only with MLFLOW_ALLOW_FILE_STORE=true: the `mlflow_file_store` fixture).

    `artifacts` maps artifact paths to bytes; by default the run logs predictions, an SBOM,
    a model card, a latency table and an unrelated notes file, and a model directory among
    its artifacts (MLflow 2 style); with `logged_model` the model is an MLflow 3 logged model
    (its own artifact location, linked to the run as an output) instead.
    """
    from mlflow.tracking import MlflowClient

    assert os.environ.get("MLFLOW_ALLOW_FILE_STORE") == "true", "use the mlflow_file_store fixture"
    uri = store.resolve().as_uri()
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    run_tags = {"mlflow.source.git.commit": COMMIT, "data_snapshot_id": "churn-2026-06"}
    run_tags.update(tags or {})
    run_tags = {k: v for k, v in run_tags.items() if v is not None}
    run = client.create_run(experiment_id, tags=run_tags, run_name="nightly-churn")
    run_id = run.info.run_id
    for key, value in (PARAMS if params is None else params).items():
        client.log_param(run_id, key, value)
    for key, value in (METRICS if metrics is None else metrics).items():
        client.log_metric(run_id, key, value)
    if artifacts is None:
        artifacts = {
            "eval/predictions.csv": predictions_csv(predictions_rows, quality=1.4, baseline_quality=1.2),
            "sbom.cdx.json": json.dumps(SBOM).encode(),
            "docs/model_card.md": MODEL_CARD.encode(),
            "latency.csv": b"latency_ms\n" + b"".join(f"{12 + (i * 7) % 23}.5\n".encode() for i in range(300)),
            "notes.txt": b"trained on the nightly cluster\n",
        }
    model_files = {
        "MLmodel": MLMODEL.encode(),
        "model.pkl": bytes(range(256)) * 40,
        "requirements.txt": b"scikit-learn==1.5.2\n",
    }
    if model and logged_model:
        from mlflow.entities import LoggedModelOutput

        logged = client.create_logged_model(experiment_id, name="churn-model", source_run_id=run_id)
        folder = store.parent / f"model-{logged.model_id}"
        folder.mkdir(parents=True)
        for name, data in model_files.items():
            (folder / name).write_bytes(data)
        client.log_model_artifacts(logged.model_id, str(folder))
        client.log_outputs(run_id, models=[LoggedModelOutput(logged.model_id, step=0)])
    elif model:
        artifacts = {
            **artifacts,
            **{f"model/{name}": data for name, data in model_files.items()},
        }
    staging = store.parent / f"staging-{run_id}"
    for path, data in artifacts.items():
        local = staging / path
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
        folder = path.rpartition("/")[0] or None
        client.log_artifact(run_id, str(local), artifact_path=folder)
    client.set_terminated(run_id)
    info = client.get_run(run_id).info
    return LoggedRun(uri, run_id, experiment_id, info.artifact_uri, dict(artifacts))
