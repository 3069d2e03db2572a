"""Load a gate's inputs from the evidence pack and call its pure function.

`evaluate_gate` is shared by gate runs (Celery), the dry run and `replay_gates`. It
returns the result as a dict plus `inputs` ({evidence kind: sha256}) so a decision can be
recomputed from exactly the same files later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import numpy as np

from governance.core.vocabulary import LINEAGE_FIELDS
from governance.evidence.models import Artifact, EvidenceKind
from governance.evidence.parsers import load_columns
from governance.evidence.selectors import artifacts_current, documents_completeness, documents_current
from governance.evidence.services import columnar_local_path
from governance.gates.artifacts import artifact_check
from governance.gates.stats import cost as cost_stats
from governance.gates.stats import (
    declared,
    documentation,
    drift,
    fairness,
    latency,
    performance,
    reproducibility,
    robustness,
    security,
    threshold,
)
from governance.gates.stats.outcome import FAILED, GateInputError
from governance.registry.models import ModelVersion

PII_SAMPLE_ROWS = 2000
TEXT_SCAN_MAX_BYTES = 5 * 1024 * 1024
TEXT_SUFFIXES = (
    ".txt",
    ".json",
    ".yaml",
    ".yml",
    ".cfg",
    ".ini",
    ".toml",
    ".env",
    ".py",
    ".md",
    ".csv",
    ".conf",
    ".properties",
    ".sh",
)


class GateUnavailable(Exception):
    """The gate cannot be computed at all (unknown type, broken storage)."""


class MissingEvidence(Exception):
    def __init__(self, kind: str, version: ModelVersion, hint: str = ""):
        self.kind = kind
        super().__init__(
            f"No {kind.replace('_', ' ')} evidence on {version}: upload it (kind={kind}) and file a new request."
            + (f" {hint}" if hint else "")
        )


class Inputs:
    """The artifacts a gate may read, current ones or those pinned by a replay."""

    def __init__(self, version: ModelVersion, pinned: dict[str, str] | None = None, *, fetch_artifacts: bool = False):
        self.version = version
        self.pinned = pinned
        # Whether the version's artifact may be fetched through its URI (gates/artifacts.py):
        # on the worker's gate runs only, never in the web process or a dry run.
        self.fetch_artifacts = fetch_artifacts
        self.used: dict[str, str] = {}
        self._current: dict[str, Artifact] | None = None

    def artifact(self, kind: str, *, required: bool = True) -> Artifact | None:
        if self.pinned is not None:
            sha = self.pinned.get(kind)
            found = (
                Artifact.objects.filter(version=self.version, kind=kind, blob_id=sha).select_related("blob").first()
                if sha
                else None
            )
        else:
            if self._current is None:
                self._current = artifacts_current(self.version)
            found = self._current.get(kind)
        if found is None:
            if required:
                raise MissingEvidence(kind, self.version)
            return None
        self.used[kind] = found.blob_id
        return found

    def columns(self, kind: str, names: list[str]) -> dict[str, np.ndarray]:
        artifact = self.artifact(kind)
        missing = [n for n in names if n not in artifact.columns]
        if missing:
            raise GateInputError(f"{kind} table {artifact.original_name} has no column(s) {', '.join(missing)}")
        return load_columns(columnar_local_path(artifact.blob), names)


def _prediction_arrays(inputs: Inputs, *, need_baseline: bool, extra: list[str] | None = None) -> dict[str, np.ndarray]:
    artifact = inputs.artifact(EvidenceKind.PREDICTIONS)
    names = ["y_true", "y_score"]
    if need_baseline:
        if "baseline_score" not in artifact.columns:
            raise GateInputError(
                f"predictions table {artifact.original_name} has no baseline_score column: "
                "score the same rows with the production model and add it"
            )
        names.append("baseline_score")
    if "y_pred" in artifact.columns:
        names.append("y_pred")
    names += [c for c in (extra or []) if c not in names]
    return inputs.columns(EvidenceKind.PREDICTIONS, names)


def _params(spec: dict, *names: str) -> dict:
    return {n: spec[n] for n in names if n in spec}


def _run_performance(spec: dict, inputs: Inputs):
    cols = _prediction_arrays(inputs, need_baseline=spec.get("compare", "baseline") == "baseline")
    return performance.performance_gate(
        cols["y_true"],
        cols["y_score"],
        cols.get("baseline_score"),
        y_pred=cols.get("y_pred"),
        **_params(
            spec,
            "metric",
            "compare",
            "mode",
            "max_drop",
            "min_improvement",
            "min_relative_improvement",
            "confidence",
            "threshold",
            "bootstrap_samples",
            "seed",
            "top_fraction",
        ),
    )


def _run_threshold_metric(spec: dict, inputs: Inputs):
    cols = _prediction_arrays(inputs, need_baseline=False)
    return threshold.threshold_metric_gate(
        cols["y_true"],
        cols["y_score"],
        y_pred=cols.get("y_pred"),
        **_params(spec, "metric", "min", "max", "use_lower_confidence_bound", "confidence", "threshold"),
    )


def _run_fairness(spec: dict, inputs: Inputs):
    sensitive_names = list(spec["sensitive"])
    cols = _prediction_arrays(inputs, need_baseline=False, extra=sensitive_names)
    return fairness.fairness_gate(
        cols["y_true"],
        cols["y_score"],
        {name: cols[name] for name in sensitive_names},
        y_pred=cols.get("y_pred"),
        **_params(
            spec, "metric", "min", "max", "intersectional", "min_group_size", "small_groups", "threshold", "confidence"
        ),
    )


def _run_cost_weighted(spec: dict, inputs: Inputs):
    cols = _prediction_arrays(inputs, need_baseline=True)
    return cost_stats.cost_weighted_gate(
        cols["y_true"],
        cols["y_score"],
        cols["baseline_score"],
        y_pred=cols.get("y_pred"),
        **_params(
            spec, "fp_cost", "fn_cost", "threshold", "max_relative_increase", "confidence", "bootstrap_samples", "seed"
        ),
    )


def _run_latency(spec: dict, inputs: Inputs):
    cols = inputs.columns(EvidenceKind.LATENCY, ["latency_ms"])
    return latency.latency_gate(
        cols["latency_ms"],
        **_params(
            spec, "max_ms", "percentile", "confidence", "use_upper_confidence_bound", "bootstrap_samples", "seed"
        ),
    )


def _run_error_rate(spec: dict, inputs: Inputs):
    cols = inputs.columns(EvidenceKind.LATENCY, ["error"])
    return latency.error_rate_gate(cols["error"], **_params(spec, "max", "use_upper_confidence_bound", "confidence"))


def _run_cost(spec: dict, inputs: Inputs):
    artifact = inputs.artifact(EvidenceKind.COST)
    return cost_stats.cost_gate(artifact.data or {}, **_params(spec, "max_per_1k"))


def _run_drift(spec: dict, inputs: Inputs):
    reference = inputs.artifact(EvidenceKind.FEATURE_REFERENCE)
    current = inputs.artifact(EvidenceKind.FEATURE_CURRENT)
    wanted = spec.get("features") or [c for c in reference.columns if c in current.columns]
    ref_cols = load_columns(columnar_local_path(reference.blob), [c for c in wanted if c in reference.columns])
    cur_cols = load_columns(columnar_local_path(current.blob), [c for c in wanted if c in current.columns])
    return drift.drift_gate(
        ref_cols,
        cur_cols,
        **_params(spec, "method", "max_p_value_drift", "psi_max", "bins", "features", "max_drifted_features"),
    )


def _run_robustness(spec: dict, inputs: Inputs):
    artifact = inputs.artifact(EvidenceKind.ROBUSTNESS)
    return robustness.robustness_gate(report=artifact.data or {}, **_params(spec, "max_drop"))


def _run_reproducibility(spec: dict, inputs: Inputs):
    version = inputs.version
    lineage = {
        "code_hash": version.code_hash,
        "data_snapshot_id": version.data_snapshot_id,
        "training_config": version.training_config,
        "training_config_sha256": version.training_config_sha256,
        "seed": version.seed,
        "artifact_sha256": version.artifact_sha256,
    }
    params = _params(spec, "require", "verify_artifact")
    matches, note = None, None
    if "artifact_sha256" in (spec.get("require") or LINEAGE_FIELDS):
        check = artifact_check(version, fetch=inputs.fetch_artifacts)
        matches, note = check.matches, check.note
        inputs.used.update(check.used or {})
    return reproducibility.reproducibility_gate(
        lineage=lineage, artifact_sha256_matches=matches, artifact_note=note, **params
    )


def _run_declared_metrics(spec: dict, inputs: Inputs):
    metrics_file = inputs.artifact(EvidenceKind.METRICS)
    cols = _prediction_arrays(inputs, need_baseline=False)
    return declared.declared_metrics_gate(
        metrics_file.data if metrics_file.data is not None else {},
        cols["y_true"],
        cols["y_score"],
        y_pred=cols.get("y_pred"),
        **_params(spec, "metrics", "tolerance", "relative_tolerance", "threshold"),
    )


def _text_files(inputs: Inputs) -> dict[str, str]:
    files: dict[str, str] = {}
    version = inputs.version
    if version.training_config:
        files["training_config (registered)"] = json.dumps(version.training_config, indent=2, sort_keys=True)
    for artifact in Artifact.objects.filter(version=version).select_related("blob"):
        is_text = artifact.kind in (
            EvidenceKind.TRAINING_CONFIG,
            EvidenceKind.METRICS,
            EvidenceKind.ROBUSTNESS,
            EvidenceKind.COST,
        ) or (artifact.kind == EvidenceKind.ATTACHMENT and artifact.original_name.lower().endswith(TEXT_SUFFIXES))
        if not is_text or artifact.blob.size > TEXT_SCAN_MAX_BYTES:
            continue
        with artifact.blob.file.open("rb") as fh:
            raw = fh.read(TEXT_SCAN_MAX_BYTES)
        files[artifact.original_name] = raw.decode("utf-8", errors="replace")
        inputs.used[f"scanned:{artifact.original_name}"] = artifact.blob_id
    return files


def _feature_samples(inputs: Inputs) -> dict[str, list]:
    samples: dict[str, list] = {}
    for kind in (EvidenceKind.FEATURE_CURRENT, EvidenceKind.FEATURE_REFERENCE, EvidenceKind.PREDICTIONS):
        artifact = inputs.artifact(kind, required=False)
        if artifact is None or not artifact.blob.columnar_file:
            continue
        string_cols = [
            c
            for c in artifact.columns
            if (artifact.profile.get("columns", {}).get(c, {}) or {}).get("type")
            not in ("float", "int", "numeric", "bool")
        ]
        if not string_cols:
            continue
        cols = load_columns(columnar_local_path(artifact.blob), string_cols)
        for name, values in cols.items():
            if values.dtype.kind in "fiub":
                continue
            samples[f"{kind}.{name}"] = [v for v in values[:PII_SAMPLE_ROWS].tolist()]
    return samples


def _run_security(spec: dict, inputs: Inputs):
    checks = spec.get("checks") or ["sbom", "licenses", "secrets", "pii"]
    sbom = inputs.artifact(EvidenceKind.SBOM, required=False) if ("sbom" in checks or "licenses" in checks) else None
    licenses = inputs.artifact(EvidenceKind.LICENSES, required=False) if "licenses" in checks else None
    return security.security_gate(
        checks=checks,
        sbom=sbom.data if sbom else None,
        licenses=licenses.data if licenses else None,
        text_files=_text_files(inputs) if "secrets" in checks else None,
        feature_samples=_feature_samples(inputs) if "pii" in checks else None,
        license_deny=spec.get("license_deny"),
        license_allow=spec.get("license_allow"),
    )


def _run_documentation(spec: dict, inputs: Inputs):
    current = documents_current(inputs.version)
    completeness = documents_completeness(inputs.version, current)
    for kind, doc in current.items():
        digest = hashlib.sha256(
            json.dumps({"fields": doc.fields, "content": doc.content}, sort_keys=True, ensure_ascii=False).encode(
                "utf-8"
            )
        ).hexdigest()
        inputs.used[f"document:{kind}"] = digest
    return documentation.documentation_gate(required=spec.get("require"), documents=completeness)


RUNNERS: dict[str, Callable] = {
    "performance": _run_performance,
    "threshold_metric": _run_threshold_metric,
    "fairness": _run_fairness,
    "cost_weighted": _run_cost_weighted,
    "latency": _run_latency,
    "error_rate": _run_error_rate,
    "cost": _run_cost,
    "drift": _run_drift,
    "robustness": _run_robustness,
    "reproducibility": _run_reproducibility,
    "security": _run_security,
    "documentation": _run_documentation,
    "declared_metrics": _run_declared_metrics,
}


def evaluate_gate(
    *,
    version: ModelVersion,
    spec: dict,
    pinned_inputs: dict[str, str] | None = None,
    fetch_artifacts: bool = False,
) -> tuple[dict, dict]:
    """(result dict with status/metric/value/... , inputs). Raises GateInputError on bad data.
    `fetch_artifacts`: the reproducibility gate may download the version's artifact through
    its URI (gate runs on the worker); otherwise it reads only a digest a worker verified."""
    runner = RUNNERS.get(spec["type"])
    if runner is None:
        raise GateUnavailable(f"Unknown gate type {spec['type']!r}.")
    inputs = Inputs(version, pinned=pinned_inputs, fetch_artifacts=fetch_artifacts)
    try:
        result = runner(spec, inputs).to_dict()
    except MissingEvidence as exc:
        result = {
            "status": FAILED,
            "metric": spec.get("metric"),
            "explanation": str(exc),
            "details": {"missing_evidence": exc.kind},
        }
    return result, dict(inputs.used)


def run_gate(run) -> tuple[dict, dict]:
    """Evaluate a GateRun (on the worker: it may fetch the version's artifact); GateInputError
    becomes an `error` result with its message."""
    spec = {"id": run.gate_id, "type": run.gate_type, **run.params}
    try:
        return evaluate_gate(version=run.request.version, spec=spec, fetch_artifacts=True)
    except GateInputError as exc:
        return {
            "status": "error",
            "metric": spec.get("metric"),
            "explanation": f"The evidence cannot be evaluated: {exc}",
        }, {}
