"""Reading evidence: the current artifact of each kind, document completeness, the comparison
with production."""

from __future__ import annotations

from governance.evidence.documents import document_missing_fields
from governance.evidence.models import Artifact, Document, DocumentKind
from governance.registry.models import ModelVersion


def artifact_latest(version: ModelVersion, kind: str) -> Artifact | None:
    return (
        Artifact.objects.filter(version=version, kind=kind)
        .select_related("blob")
        .order_by("-created_at", "-pk")
        .first()
    )


def artifacts_current(version: ModelVersion) -> dict[str, Artifact]:
    """Newest artifact per kind (attachments: all of them under their own keys)."""
    current: dict[str, Artifact] = {}
    for artifact in (
        Artifact.objects.filter(version=version).select_related("blob").order_by("kind", "-created_at", "-pk")
    ):
        current.setdefault(artifact.kind, artifact)
    return current


def documents_current(version: ModelVersion) -> dict[str, Document]:
    current: dict[str, Document] = {}
    for document in Document.objects.filter(version=version).order_by("kind", "-revision"):
        current.setdefault(document.kind, document)
    return current


def documents_completeness(version: ModelVersion, current: dict[str, Document] | None = None) -> dict[str, dict]:
    """{kind: {"present": bool, "missing_fields": [...], "revision": n}} for every document kind.

    The documentation gate and the version page read this same answer.
    """
    if current is None:
        current = documents_current(version)
    result = {}
    for kind in DocumentKind.values:
        doc = current.get(kind)
        if doc is None:
            result[kind] = {"present": False, "missing_fields": [], "revision": None}
        else:
            result[kind] = {
                "present": True,
                "missing_fields": document_missing_fields(kind, doc.fields, doc.content),
                "revision": doc.revision,
            }
    return result


COMPARED_LINEAGE = (
    "artifact_uri",
    "artifact_sha256",
    "code_hash",
    "data_snapshot_id",
    "training_config_sha256",
    "seed",
    "framework",
)


def comparison_with_production(version: ModelVersion) -> dict:
    """This version against the model's production version, as JSON a request can freeze.

    {"production_version": n or None, "rows": [{"label", "production", "candidate", "changed"}]}.
    Metrics come from each version's metrics artifact and are labelled "declared": they are
    what the team reported, not what the gates recomputed.
    """
    production = (
        ModelVersion.objects.filter(model_id=version.model_id, stage="production").exclude(pk=version.pk).first()
    )
    if production is None:
        return {"production_version": None, "rows": []}
    rows = []
    for field in COMPARED_LINEAGE:
        a, b = getattr(production, field), getattr(version, field)
        rows.append({"label": field.replace("_", " "), "production": a, "candidate": b, "changed": a != b})
    declared = [declared_metrics(v) for v in (production, version)]
    for key in sorted(set(declared[0]) | set(declared[1])):
        a, b = declared[0].get(key), declared[1].get(key)
        rows.append({"label": f"{key} (declared)", "production": a, "candidate": b, "changed": a != b})
    return {
        "production_version": production.version,
        "rows": rows,
        "declared": bool(set(declared[0]) | set(declared[1])),
    }


def declared_metrics(version: ModelVersion) -> dict[str, float]:
    """The numbers of the version's metrics file (what the team reported)."""
    artifact = artifact_latest(version, "metrics")
    data = artifact.data if artifact is not None and isinstance(artifact.data, dict) else {}
    return {k: v for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
