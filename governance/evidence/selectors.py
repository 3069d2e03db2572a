"""Reading evidence: the current artifact of each kind, document completeness."""

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
