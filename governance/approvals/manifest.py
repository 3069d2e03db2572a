"""What an approver saw: the evidence files, documents, gate outcomes and frozen policy of a
request at the moment of deciding, and its sha256 (stored on the decision).

When the evidence or the documents change afterwards, the gates run again (a new round) and
approvals given on the old manifest stop counting; `manifest_changes` says what changed, in
words, for the request page and the "approval stale" email.
"""

from __future__ import annotations

from governance.approvals.models import PromotionRequest
from governance.core.canonical import canonical_json_sha256
from governance.evidence.models import Artifact, Document

# Gate outcome fields an approver reads; a change in any of them is a change of what was seen.
OUTCOME_FIELDS = ("status", "value", "threshold", "ci_low", "ci_high", "p_value", "n")


def request_manifest(request: PromotionRequest) -> dict:
    """The facts behind the request right now, as canonical JSON-able data (3 queries)."""
    evidence: dict[str, list[str]] = {}
    for kind, sha256 in (
        Artifact.objects.filter(version_id=request.version_id).order_by("kind", "pk").values_list("kind", "blob_id")
    ):
        evidence.setdefault(kind, []).append(sha256)
    documents = {}
    for kind, revision, fields, content in Document.objects.filter(version_id=request.version_id).values_list(
        "kind", "revision", "fields", "content"
    ):
        if kind not in documents or revision > documents[kind]["revision"]:
            documents[kind] = {"revision": revision, "sha256": canonical_json_sha256([fields, content])}
    gates = {
        run.gate_id: {name: (run.outcome or {}).get(name) for name in OUTCOME_FIELDS} | {"status": run.status}
        for run in request.gate_runs.current()
    }
    return {
        "round": request.gate_round,
        "policy_sha256": request.policy_sha256,
        "evidence": evidence,
        "documents": documents,
        "gates": gates,
    }


def manifest_sha256(manifest: dict) -> str:
    return canonical_json_sha256(manifest)


def manifest_changes(seen: dict, now: dict) -> list[str]:
    """What differs between a manifest an approver saw and the current one, in words."""
    if not seen:
        return ["recorded before approvals kept what the approver saw"]
    changes = []
    for kind in sorted(set(seen.get("evidence", {})) | set(now.get("evidence", {}))):
        before, after = seen.get("evidence", {}).get(kind), now.get("evidence", {}).get(kind)
        if before != after:
            verb = "added" if not before else "removed" if not after else "replaced"
            changes.append(f"{kind.replace('_', ' ')} evidence {verb}")
    for kind in sorted(set(seen.get("documents", {})) | set(now.get("documents", {}))):
        before, after = seen.get("documents", {}).get(kind), now.get("documents", {}).get(kind)
        if before != after:
            old = f"r{before['revision']}" if before else "none"
            new = f"r{after['revision']}" if after else "none"
            changes.append(f"{kind.replace('_', ' ')} revised ({old} → {new})")
    for gate_id in sorted(set(seen.get("gates", {})) | set(now.get("gates", {}))):
        before, after = seen.get("gates", {}).get(gate_id) or {}, now.get("gates", {}).get(gate_id) or {}
        if before != after:
            if before.get("status") != after.get("status"):
                changes.append(f"gate {gate_id}: {before.get('status', 'none')} → {after.get('status', 'none')}")
            else:
                changes.append(f"gate {gate_id}: recomputed ({_value(before)} → {_value(after)})")
    if seen.get("policy_sha256") != now.get("policy_sha256"):
        changes.append("policy changed")
    return changes


def _value(outcome: dict) -> str:
    value = outcome.get("value")
    return "none" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
