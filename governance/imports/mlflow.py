"""Register a model version from an MLflow run, with its evidence, in one transaction.

The CI job, where the tracking server is reachable, reads the run with the MLflow client
(`govern import-mlflow`, client/govern/mlflow.py) and sends it here as a `run` object plus the
run's artifact files; this module maps it, once, onto the registry and the evidence pack
(docs/mlflow.md has the table):

- lineage: the code hash from the `mlflow.source.git.commit` tag (required), the params as
  the training config, the seed from a `seed` / `random_seed` / `random_state` param, the
  data snapshot from a `data_snapshot_id` tag or the run's first dataset input, the logged
  model's URI and sha256 as the artifact, and `source.mlflow` (run and experiment IDs and
  names, tracking URI, the run's artifact URI);
- the run's metrics become the `metrics` evidence (`mlflow-metrics.json`);
- each artifact file becomes the evidence kind or document its name says (`CONVENTIONS`),
  or the kind an explicit `kinds` mapping gives; files matching nothing are skipped and
  listed with the reason.

Everything goes through the existing doors (`version_register`, `evidence_receive`,
`document_save`), so permissions, validation and audit events are theirs. Any refusal rolls
the whole import back (no version without its evidence) and removes the files stored for it.
An artifact over EVIDENCE_PARSE_IN_WORKER_BYTES is, as for any upload, stored in the import's
transaction and parsed by a worker after it commits (listed as `queued`, with its status).
The same run imported twice into one model is a conflict naming the existing version.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.files.storage import default_storage
from django.db import transaction

from governance.core.errors import DomainError
from governance.core.inputs import check_tree, text_problem
from governance.evidence.models import Blob, DocumentKind, EvidenceKind, QueuedUpload
from governance.evidence.queued import evidence_receive
from governance.evidence.services import document_save, sha256_of_file
from governance.registry.models import ModelVersion, RegisteredModel
from governance.registry.services import version_register

log = logging.getLogger(__name__)

GIT_COMMIT_TAG = "mlflow.source.git.commit"
DATA_SNAPSHOT_TAG = "data_snapshot_id"
SEED_PARAMS = ("seed", "random_seed", "random_state")
METRICS_NAME = "mlflow-metrics.json"
SKIP = "skip"  # an explicit `kinds` value: leave this file out

TABLE = ("csv", "parquet")
JSON = ("json",)
MARKDOWN = ("md", "markdown")


@dataclass(frozen=True)
class Convention:
    """A file whose name holds one of `names` (as a whole word: `test_predictions.csv`,
    `sbom.cdx.json`) with one of `extensions` is evidence (or a document) of `kind`."""

    kind: str
    names: tuple[str, ...]
    extensions: tuple[str, ...]

    @property
    def is_document(self) -> bool:
        return self.kind in DocumentKind.values


CONVENTIONS: tuple[Convention, ...] = (
    Convention("predictions", ("predictions", "preds"), TABLE),
    Convention("latency", ("latency", "latencies"), TABLE),
    Convention("feature_reference", ("feature_reference", "reference_features", "reference"), TABLE),
    Convention("feature_current", ("feature_current", "current_features", "current"), TABLE),
    Convention("sbom", ("sbom", "bom", "cyclonedx", "cdx"), JSON),
    Convention("licenses", ("licenses", "licences"), (*JSON, "csv")),
    Convention("cost", ("cost", "costs"), JSON),
    Convention("robustness", ("robustness",), JSON),
    Convention("training_config", ("training_config", "train_config"), (*JSON, "yaml", "yml")),
    Convention("model_card", ("model_card", "modelcard"), MARKDOWN),
    Convention("evaluation_report", ("evaluation_report", "eval_report"), MARKDOWN),
    Convention("monitoring_plan", ("monitoring_plan",), MARKDOWN),
    Convention("rollback_plan", ("rollback_plan",), MARKDOWN),
)
COMPRESSED = ("gz", "zip")  # predictions.csv.gz is read as predictions.csv


class MlflowImportError(DomainError):
    """A refused MLflow import: nothing was written."""


@dataclass(frozen=True)
class RunFile:
    """One artifact file of the run as the upload handler streamed it to disk."""

    path: str  # the run's artifact path, e.g. "eval/predictions.csv"
    local_path: str
    sha256: str | None = None


@dataclass
class ImportResult:
    version: ModelVersion
    evidence: list[dict] = field(default_factory=list)  # {path, kind, sha256, id}
    documents: list[dict] = field(default_factory=list)  # {path, kind, revision}
    queued: list[tuple[str, QueuedUpload]] = field(default_factory=list)  # large: parsed by a worker after commit
    skipped: list[dict] = field(default_factory=list)  # {path, reason}


# --- the mapping (pure) ------------------------------------------------------------------


def _words(path: str) -> tuple[str, str]:
    """("_the_name_words_", extension) of a file name, compression suffix dropped."""
    name = os.path.basename(path).lower()
    parts = name.split(".")
    if len(parts) > 2 and parts[-1] in COMPRESSED:
        parts = parts[:-1]
    extension = parts[-1] if len(parts) > 1 else ""
    stem = "_".join(parts[:-1]) if len(parts) > 1 else parts[0]
    return "_" + "_".join(w for w in re.split(r"[^a-z0-9]+", stem) if w) + "_", extension


def kind_by_convention(path: str) -> tuple[str | None, str]:
    """(kind, "") for a file the conventions name, else (None, why it is skipped)."""
    words, extension = _words(path)
    matches = [c.kind for c in CONVENTIONS if extension in c.extensions and any(f"_{n}_" in words for n in c.names)]
    if len(matches) == 1:
        return matches[0], ""
    if matches:
        return None, f"ambiguous name (could be {' or '.join(matches)}): map it with --kind {path}=KIND"
    return None, f"no evidence name convention matches: map it with --kind {path}=KIND if it is evidence"


def _clean_uri(uri: str) -> str:
    """A URI without user name or password (a tracking URI may carry them)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _when(ms: Any) -> str | None:
    if isinstance(ms, int) and not isinstance(ms, bool) and 0 < ms < 10**14:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()
    return None


# --- checking the `run` object -----------------------------------------------------------


def _refuse(field_name: str, message: str, code: str | None = None) -> MlflowImportError:
    return MlflowImportError(f"{field_name}: {message}", field=field_name, code=code)


def _text(run: dict, key: str, *, required: bool = False, max_chars: int = 500, prefix: str = "run") -> str:
    value = run.get(key)
    name = f"{prefix}.{key}"
    if value is None or value == "":
        if required:
            raise _refuse(name, "This field is required.")
        return ""
    if not isinstance(value, str):
        raise _refuse(name, "Expected a string.")
    if len(value) > max_chars:
        raise _refuse(name, f"At most {max_chars} characters.")
    return value.strip()


def _mapping(run: dict, key: str, *, numbers: bool = False) -> dict:
    value = run.get(key) or {}
    if not isinstance(value, dict):
        raise _refuse(f"run.{key}", "Expected an object.")
    for name, item in value.items():
        if numbers:
            ok = item is None or (isinstance(item, int | float) and not isinstance(item, bool))
            expected = "a number or null"
        else:
            ok = isinstance(item, str)
            expected = "a string"
        if not ok:
            raise _refuse(f"run.{key}.{name}", f"Expected {expected}.")
    return value


def _artifact_path(path: Any, field_name: str) -> str:
    if not isinstance(path, str) or not path or len(path) > 500:
        raise _refuse(field_name, "Expected a run artifact path (1-500 characters).")
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise _refuse(field_name, f"{path!r} is not a relative artifact path.")
    return path


@dataclass(frozen=True)
class CheckedRun:
    run_id: str
    experiment_id: str
    tags: dict
    params: dict
    metrics: dict
    model: dict
    kinds: dict
    not_sent: list[dict]
    source: dict
    data_snapshot_id: str


def check_run(run: Any) -> CheckedRun:
    """The `run` object the client sent, checked field by field (400s naming `run.<field>`)."""
    if not isinstance(run, dict):
        raise _refuse("run", "Expected a JSON object describing the MLflow run.")
    check_tree(run, field="run")
    run_id = _text(run, "run_id", required=True, max_chars=100)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", run_id):
        raise _refuse("run.run_id", "Expected an MLflow run ID (letters, digits, '-' or '_').")
    experiment_id = _text(run, "experiment_id", required=True, max_chars=100)
    tags = _mapping(run, "tags")
    params = _mapping(run, "params")
    metrics = _mapping(run, "metrics", numbers=True)

    model = run.get("model")
    if not isinstance(model, dict):
        raise _refuse("run.model", "Expected the logged model: {uri, sha256, path}.")
    model_uri = _text(model, "uri", required=True, max_chars=1000, prefix="run.model")
    model_sha256 = _text(model, "sha256", required=True, max_chars=64, prefix="run.model").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", model_sha256):
        raise _refuse("run.model.sha256", "Expected 64 lowercase hex characters (sha256).")
    checked_model = {
        "uri": _clean_uri(model_uri),
        "sha256": model_sha256,
        "path": _text(model, "path", max_chars=500, prefix="run.model"),
        "model_id": _text(model, "model_id", max_chars=100, prefix="run.model"),
        "framework": _text(model, "framework", max_chars=100, prefix="run.model"),
    }

    kinds = run.get("kinds") or {}
    if not isinstance(kinds, dict):
        raise _refuse("run.kinds", "Expected an object of artifact path to evidence or document kind.")
    allowed = {*EvidenceKind.values, *DocumentKind.values, SKIP}
    for path, kind in kinds.items():
        _artifact_path(path, f"run.kinds.{path}")
        if kind not in allowed:
            raise _refuse(f"run.kinds.{path}", f"Unknown kind {kind!r}; use one of: {', '.join(sorted(allowed))}.")

    not_sent = run.get("not_sent") or []
    if not isinstance(not_sent, list):
        raise _refuse("run.not_sent", "Expected a list of {path, reason}.")
    for index, item in enumerate(not_sent):
        if not isinstance(item, dict) or not isinstance(item.get("reason"), str):
            raise _refuse(f"run.not_sent.{index}", "Expected {path, reason}.")
        _artifact_path(item.get("path"), f"run.not_sent.{index}.path")

    datasets = run.get("datasets") or []
    if not isinstance(datasets, list) or not all(isinstance(d, dict) for d in datasets):
        raise _refuse("run.datasets", "Expected a list of {name, digest, source}.")
    datasets = [
        {k: str(d.get(k) or "")[:500] for k in ("name", "digest", "source_type", "source") if d.get(k)}
        for d in datasets[:20]
    ]
    snapshot = tags.get(DATA_SNAPSHOT_TAG) or next(
        (f"{d['name']}@{d['digest']}" if d.get("digest") else d["name"] for d in datasets if d.get("name")), ""
    )

    source = {
        "run_id": run_id,
        "run_name": _text(run, "run_name"),
        "experiment_id": experiment_id,
        "experiment_name": _text(run, "experiment_name"),
        "tracking_uri": _clean_uri(_text(run, "tracking_uri", max_chars=1000)),
        "artifact_uri": _clean_uri(_text(run, "artifact_uri", max_chars=1000)),
        "model_uri": checked_model["uri"],
        "model_path": checked_model["path"],
        "model_id": checked_model["model_id"],
        "user": _text(run, "user_id", max_chars=200),
        "status": _text(run, "status", max_chars=50),
        "started_at": _when(run.get("start_time")),
        "ended_at": _when(run.get("end_time")),
        "datasets": datasets,
    }
    source = {k: v for k, v in source.items() if v not in ("", None, [])}
    return CheckedRun(
        run_id=run_id,
        experiment_id=experiment_id,
        tags=tags,
        params=params,
        metrics=metrics,
        model=checked_model,
        kinds=kinds,
        not_sent=not_sent,
        source=source,
        data_snapshot_id=snapshot[:200],
    )


def _seed(params: dict) -> int | None:
    for name in SEED_PARAMS:
        value = str(params.get(name, "")).strip()
        if re.fullmatch(r"\d{1,18}", value):
            return int(value)
    return None


# --- the door ----------------------------------------------------------------------------


def _plan(checked: CheckedRun, files: dict[str, RunFile]) -> tuple[list[tuple[str, RunFile]], list[dict]]:
    """[(kind, file)] to store, in a stable order, and the skipped files with reasons."""
    for path in files:
        _artifact_path(path, f"artifacts.{path}")
        if text_problem(path):
            raise _refuse("artifacts", f"an artifact path holds {text_problem(path)}")
    for path in checked.kinds:
        if path not in files:
            raise _refuse(f"run.kinds.{path}", "No artifact file with this path was sent.")
    planned: list[tuple[str, RunFile]] = []
    skipped = [{"path": item["path"], "reason": item["reason"]} for item in checked.not_sent]
    for path in sorted(files):
        kind = checked.kinds.get(path)
        if kind == SKIP:
            skipped.append({"path": path, "reason": "skipped by --kind"})
            continue
        if kind is None:
            kind, reason = kind_by_convention(path)
            if kind is None:
                skipped.append({"path": path, "reason": reason})
                continue
        planned.append((kind, files[path]))
    by_kind: dict[str, list[str]] = {}
    for kind, run_file in planned:
        by_kind.setdefault(kind, []).append(run_file.path)
    for kind, paths in by_kind.items():
        if len(paths) > 1 and kind != EvidenceKind.ATTACHMENT:
            raise _refuse(
                "run.kinds",
                f"{len(paths)} artifacts map to {kind} ({', '.join(paths)}): say which one with --kind PATH={kind} "
                f"and --kind OTHER=skip.",
            )
    return planned, skipped


def _file_error(path: str, exc: DomainError) -> MlflowImportError:
    message = f"artifact {path}: {exc.message}"
    return MlflowImportError(message, code=exc.code, fields={f"artifacts.{path}": [exc.message]})


def _read_markdown(run_file: RunFile) -> str:
    try:
        with open(run_file.local_path, encoding="utf-8") as fh:
            return fh.read(200_001)
    except UnicodeDecodeError:
        raise MlflowImportError(
            f"artifact {run_file.path}: not UTF-8 text",
            fields={f"artifacts.{run_file.path}": ["A Markdown document must be UTF-8 text."]},
        ) from None


def mlflow_run_import(*, user, model: RegisteredModel, run: Any, files: dict[str, RunFile]) -> ImportResult:
    """Register a version of `model` from an MLflow `run` and attach its artifacts `files`
    (artifact path -> file on disk), all or nothing."""
    checked = check_run(run)
    code_hash = str(checked.tags.get(GIT_COMMIT_TAG, "")).strip()
    if not code_hash:
        raise _refuse(
            f"run.tags.{GIT_COMMIT_TAG}",
            "The run has no git commit tag: MLflow sets it when the training script runs from a git "
            "checkout; set it with mlflow.set_tag('mlflow.source.git.commit', SHA).",
        )
    planned, skipped = _plan(checked, files)
    metrics = {k: v for k, v in checked.metrics.items() if v is not None and math.isfinite(v)}
    skipped += [
        {"path": f"metrics/{name}", "reason": "not a finite number"}
        for name in sorted(checked.metrics)
        if name not in metrics
    ]
    stored: dict[str, list[str]] = {}  # sha256 of blobs this import created -> their storage names
    try:
        with transaction.atomic():
            return _import(user, model, checked, code_hash, planned, skipped, metrics, stored)
    except BaseException:
        _remove_orphans(stored)
        raise


def _import(user, model, checked: CheckedRun, code_hash, planned, skipped, metrics, stored) -> ImportResult:
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)  # serialises imports of one run
    existing = ModelVersion.objects.filter(model=model, source__mlflow__run_id=checked.run_id).first()
    if existing is not None:
        raise MlflowImportError(
            f"MLflow run {checked.run_id} was already imported as {model.name} v{existing.version}.",
            code="conflict",
            fields={"run.run_id": [f"Already imported as {model.name} v{existing.version}."]},
        )
    version = version_register(
        user=user,
        model=model,
        artifact_uri=checked.model["uri"],
        artifact_sha256=checked.model["sha256"],
        code_hash=code_hash,
        data_snapshot_id=checked.data_snapshot_id,
        training_config=dict(sorted(checked.params.items())),
        seed=_seed(checked.params),
        framework=checked.model["framework"],
        source={"mlflow": checked.source},
    )
    result = ImportResult(version=version, skipped=skipped)
    if metrics:
        handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8")
        try:
            with handle:
                json.dump(dict(sorted(metrics.items())), handle, indent=2)
            metrics_file = RunFile(path=METRICS_NAME, local_path=handle.name)
            _store(user, version, EvidenceKind.METRICS, metrics_file, result, stored, source="run metrics")
        finally:
            os.unlink(handle.name)
    for kind, run_file in planned:
        if kind in DocumentKind.values:
            try:
                document = document_save(
                    user=user, version=version, kind=kind, fields={}, content=_read_markdown(run_file)
                )
            except DomainError as exc:
                raise _file_error(run_file.path, exc) from None
            result.documents.append({"path": run_file.path, "kind": kind, "revision": document.revision})
        else:
            _store(user, version, kind, run_file, result, stored)
    return result


def _store(user, version, kind: str, run_file: RunFile, result: ImportResult, stored, source: str = "") -> None:
    """Through the evidence door: parsed now (an Artifact), or, when larger than
    EVIDENCE_PARSE_IN_WORKER_BYTES, stored and parsed by a worker after the import commits."""
    sha256 = run_file.sha256 or sha256_of_file(run_file.local_path)
    new_blob = not Blob.objects.filter(sha256=sha256).exists()
    try:
        received = evidence_receive(
            user=user,
            version=version,
            kind=kind,
            path=run_file.local_path,
            original_name=os.path.basename(run_file.path),
            sha256=sha256,
        )
    except DomainError as exc:
        raise _file_error(run_file.path, exc) from None
    if isinstance(received, QueuedUpload):
        stored.setdefault("incoming", []).append(received.stored_name)
        result.queued.append((run_file.path, received))
        return
    if new_blob:
        stored[sha256] = [name for name in (received.blob.file.name, received.blob.columnar_file) if name]
    entry = {"path": run_file.path, "kind": kind, "sha256": sha256, "id": received.pk}
    if source:
        entry["from"] = source
    result.evidence.append(entry)


def _remove_orphans(stored: dict[str, list[str]]) -> None:
    """After a rollback: delete the files of blobs (and queued uploads) this import created
    and no row names now."""
    for key, names in stored.items():
        if key == "incoming":
            orphans = [n for n in names if not QueuedUpload.objects.filter(stored_name=n).exists()]
        else:
            orphans = [] if Blob.objects.filter(sha256=key).exists() else names  # else: committed meanwhile
        for name in orphans:
            try:
                default_storage.delete(name)
            except Exception:  # pragma: no cover - best effort clean-up
                log.warning("could not remove %s after a failed MLflow import", name)
