"""Reproducibility gate: is the version's lineage complete and well formed?

Pure: no Django, no I/O. The caller hashes the artifact (an uploaded evidence file, or the
artifact fetched through its URI on the worker: gates/artifacts.py) and passes
`artifact_sha256_matches` with a sentence saying how (or why it could not); this module
only judges. A mismatch always fails; an artifact that could not be fetched is
`unverified`: a warning that does not fail the gate, unless the policy asks
`verify_artifact: true`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from governance.core.canonical import canonical_json_sha256
from governance.core.vocabulary import LINEAGE_FIELDS

from .outcome import GateInputError, GateResult, checklist
from .params import GateParams, checked, names_from

__all__ = ["MAX_SEED", "MAX_SNAPSHOT_ID_LENGTH", "reproducibility_gate"]

MAX_SEED = 2**32 - 1
MAX_SNAPSHOT_ID_LENGTH = 200

_GIT_SHA = re.compile(r"(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|sha256:[0-9a-fA-F]{64})")
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def _is_placeholder_hash(value: str) -> bool:
    digits = value.split(":", 1)[-1]
    return len(set(digits.lower())) == 1  # 000...0, fff...f


def _check_code_hash(value: Any) -> tuple[str, str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "missing", "code_hash missing"
    if not isinstance(value, str) or not _GIT_SHA.fullmatch(value.strip()):
        return (
            "malformed",
            ("code_hash malformed (expected a git SHA: 40 or 64 hex characters, or sha256:<64 hex>)"),
        )
    if _is_placeholder_hash(value.strip()):
        return (
            "malformed",
            "code_hash malformed (a placeholder: all one repeated digit)",
        )
    return "ok", ""


def _check_snapshot(value: Any) -> tuple[str, str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "missing", "data_snapshot_id missing"
    if not isinstance(value, str):
        return "malformed", "data_snapshot_id malformed (must be a string)"
    if any(ch.isspace() for ch in value):
        return "malformed", "data_snapshot_id malformed (contains whitespace)"
    if len(value) > MAX_SNAPSHOT_ID_LENGTH:
        return (
            "malformed",
            (f"data_snapshot_id malformed ({len(value)} characters, at most {MAX_SNAPSHOT_ID_LENGTH})"),
        )
    return "ok", ""


def _check_config(config: Any, recorded: Any) -> tuple[str, str, str | None]:
    """(status, reason, computed sha256 or None)."""
    if config is None:
        return "missing", "training_config missing", None
    if not isinstance(config, Mapping):
        return "malformed", "training_config malformed (must be a JSON object)", None
    if not config:
        return "missing", "training_config missing (empty object)", None
    try:
        computed = canonical_json_sha256(config)
    except (TypeError, ValueError):
        return "malformed", "training_config malformed (not JSON-serialisable)", None
    if recorded is None or (isinstance(recorded, str) and not recorded.strip()):
        return (
            "missing",
            ("training_config_sha256 missing (cannot verify the stored config is the one recorded)"),
            computed,
        )
    if not isinstance(recorded, str):
        return (
            "malformed",
            "training_config_sha256 malformed (must be a string)",
            computed,
        )
    digest = recorded.strip()
    if digest.lower().startswith("sha256:"):
        digest = digest[len("sha256:") :]
    if not _SHA256_HEX.fullmatch(digest):
        return (
            "malformed",
            "training_config_sha256 malformed (expected 64 hex characters)",
            computed,
        )
    if digest.lower() != computed:
        return (
            "mismatch",
            (
                f"training_config_sha256 does not match the config (recorded "
                f"{digest.lower()[:12]}…, canonical sha256 {computed[:12]}…)"
            ),
            computed,
        )
    return "ok", "", computed


def _check_seed(value: Any) -> tuple[str, str]:
    if value is None:
        return "missing", "seed missing"
    if isinstance(value, bool) or not isinstance(value, int):
        return (
            "malformed",
            f"seed malformed (must be an integer, got {type(value).__name__})",
        )
    if not 0 <= value <= MAX_SEED:
        return "malformed", f"seed malformed (must be in 0..{MAX_SEED})"
    return "ok", ""


UNVERIFIED_DEFAULT = "artifact file not available to verify artifact_sha256"


def _check_artifact(value: Any, matches: bool | None, note: str | None) -> tuple[str, str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "missing", "artifact_sha256 missing"
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value.strip()):
        return "malformed", "artifact_sha256 malformed (expected 64 hex characters)"
    if _is_placeholder_hash(value.strip()):
        return (
            "malformed",
            "artifact_sha256 malformed (a placeholder: all one repeated digit)",
        )
    if matches is None:
        return "unverified", f"artifact_sha256 unverified: {note or UNVERIFIED_DEFAULT}"
    if not matches:
        return "mismatch", f"artifact's sha256 does not match artifact_sha256 ({note or 'the artifact file'})"
    return "ok", ""


@dataclass(frozen=True, kw_only=True)
class ReproducibilityParams(GateParams):
    gate = "reproducibility"
    require: list[str] = checked(
        names_from(LINEAGE_FIELDS, what="reproducibility fields", in_allowed_order=True), default=None
    )
    verify_artifact: bool = False


def reproducibility_gate(
    *,
    lineage: Mapping[str, Any],
    artifact_sha256_matches: bool | None = None,
    artifact_note: str | None = None,
    **spec: Any,
) -> GateResult:
    """Failed unless every required lineage field is present and well formed.

    lineage: code_hash (git SHA: 40 or 64 hex, or sha256:<64 hex>), data_snapshot_id
    (non-empty, no whitespace, <= 200 chars), training_config (non-empty object) with
    training_config_sha256 (must equal `canonical_json_sha256(training_config)`;
    an optional "sha256:" prefix and upper case are accepted), seed (int in
    0..2**32-1, not bool), artifact_sha256 (64 hex). All-one-digit hashes (000…0) are
    placeholders and rejected.
    require: subset of LINEAGE_FIELDS (default all). Fields not required are not judged.
    artifact_sha256_matches: computed by the caller by hashing the artifact; False fails
    (a mismatch, always); None (the artifact could not be fetched) is "unverified": a
    warning named in the explanation, or a failure when `verify_artifact` is true.
    artifact_note: how the artifact was hashed ("fetched from s3://..."), or why it could
    not be (shown in the explanation).
    Value = number of required fields with a problem, threshold 0; groups per field
    {"status": ok|missing|malformed|mismatch|unverified, "reason"}; an unverified artifact
    that is only a warning is listed in details["warnings"].
    """
    if not isinstance(lineage, Mapping):
        raise GateInputError("lineage must be an object")
    if artifact_sha256_matches is not None and not isinstance(artifact_sha256_matches, bool):
        raise GateInputError("artifact_sha256_matches must be true, false or null")
    params = ReproducibilityParams.from_spec(spec)
    wanted = params.require
    if not isinstance(params.verify_artifact, bool):
        raise GateInputError("verify_artifact must be true or false")

    groups: dict[str, dict[str, Any]] = {}
    computed_config_sha: str | None = None
    warnings: list[str] = []
    for name in wanted:
        if name == "code_hash":
            status, reason = _check_code_hash(lineage.get("code_hash"))
        elif name == "data_snapshot_id":
            status, reason = _check_snapshot(lineage.get("data_snapshot_id"))
        elif name == "training_config":
            status, reason, computed_config_sha = _check_config(
                lineage.get("training_config"), lineage.get("training_config_sha256")
            )
        elif name == "seed":
            status, reason = _check_seed(lineage.get("seed"))
        else:
            status, reason = _check_artifact(lineage.get("artifact_sha256"), artifact_sha256_matches, artifact_note)
            if status == "unverified":
                if params.verify_artifact:
                    reason += " (the policy asks verify_artifact: true)"
                else:
                    warnings.append(
                        f"{reason} (it does not fail the gate: the policy does not ask verify_artifact: true)"
                    )
        groups[name] = {"status": status, "reason": reason or None}

    problems = [
        g["reason"]
        for name, g in groups.items()
        if g["status"] != "ok" and not (g["status"] == "unverified" and not params.verify_artifact)
    ]
    if wanted:
        verified = ""
        if "artifact_sha256" in wanted and groups["artifact_sha256"]["status"] == "ok":
            verified = f"; artifact sha256 verified ({artifact_note or 'against the file'})"
        all_clear = f"all {len(wanted)} required lineage fields present and well formed ({', '.join(wanted)}){verified}"
    else:
        all_clear = "no lineage fields required"
    details = {
        "required": wanted,
        "not_required": [f for f in LINEAGE_FIELDS if f not in wanted],
        "training_config_sha256_computed": computed_config_sha,
        "artifact_sha256_matches": artifact_sha256_matches,
        "artifact_check": artifact_note,
        "verify_artifact": params.verify_artifact,
        "warnings": warnings,
    }
    return checklist(
        "lineage_problems", wanted, problems, groups, all_clear=all_clear, details=details, warnings=warnings
    )
