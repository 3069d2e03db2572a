"""Reading evidence: the current artifact of each kind, document completeness, the comparison
with production, the large uploads a worker still checks (or refused)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from governance.evidence.documents import document_missing_fields
from governance.evidence.models import Artifact, Document, DocumentKind, ParseStatus, QueuedUpload
from governance.registry.models import ModelVersion

# How long the version page keeps showing a large upload once the worker is done with it.
# An accepted one is in the Evidence table anyway: a day is enough to see where it went.
# A refused one stays a week, or until a newer file of the same kind is stored (by any
# route), since then it no longer explains anything missing.
UPLOAD_ACCEPTED_SHOWN_FOR = timedelta(days=1)
UPLOAD_REFUSED_SHOWN_FOR = timedelta(days=7)
UPLOADS_SHOWN_MAX = 20


def uploads_in_progress(version: ModelVersion, *, now: datetime | None = None) -> list[QueuedUpload]:
    """The version's large uploads worth showing, newest first, in one query: every one still
    queued or parsing, recently accepted ones, and refused ones not yet superseded."""
    now = now or timezone.now()
    superseded = Artifact.objects.filter(
        version_id=version.pk, kind=OuterRef("kind"), created_at__gt=OuterRef("created_at")
    )
    return list(
        QueuedUpload.objects.filter(version=version)
        .annotate(superseded=Exists(superseded))
        .filter(
            Q(status__in=[ParseStatus.QUEUED, ParseStatus.PARSING])
            | Q(status=ParseStatus.ACCEPTED, finished_at__gte=now - UPLOAD_ACCEPTED_SHOWN_FOR)
            | Q(status=ParseStatus.REFUSED, finished_at__gte=now - UPLOAD_REFUSED_SHOWN_FOR, superseded=False)
        )
        .select_related("uploaded_by")
        .order_by("-created_at", "-pk")[:UPLOADS_SHOWN_MAX]
    )


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
