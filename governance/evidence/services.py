"""Accepting evidence and documents for a model version.

An upload is parsed and validated from the temporary file the upload handler streamed to
disk; only then is it stored, once per sha256, with its Parquet copy for tables. Any
failure leaves no row and no new file behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max

from governance.accounts.permissions import ensure_may
from governance.accounts.roles import Action
from governance.audit.services import audit_record
from governance.core.errors import DomainError
from governance.core.inputs import text_problem
from governance.evidence.documents import document_missing_fields, validate_document
from governance.evidence.models import (
    Artifact,
    Blob,
    Document,
    DocumentKind,
    EvidenceKind,
)
from governance.evidence.parsers import EvidenceError, ParsedEvidence, parse_evidence
from governance.evidence.signals import evidence_changed
from governance.registry.models import ModelVersion

log = logging.getLogger(__name__)

# Served only as downloads; these types are never rendered inline by the browser.
SAFE_CONTENT_TYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
    "yaml": "application/yaml",
}


class DocumentError(DomainError):
    """A refused document: `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), fields=_document_fields(errors))


def _document_fields(errors: dict[str, str]) -> dict[str, list[str]]:
    """API field names: structured fields are `fields.<name>`, the rest as they are."""
    return {(k if k in ("kind", "content", "fields") else f"fields.{k}"): [v] for k, v in errors.items()}


def _audit_version(user, action: str, obj, version: ModelVersion, **data) -> None:
    """Audit a change to `version`'s evidence or documents; `data` follows its version."""
    audit_record(
        actor=user,
        action=action,
        obj=obj,
        model_name=version.model.name,
        data={"version": version.version, **data},
    )


def sha256_of_file(path: str, chunk: int = 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _columnar_name(sha256: str) -> str:
    return f"columnar/{sha256[:2]}/{sha256}.parquet"


def evidence_upload(
    *,
    user,
    version: ModelVersion,
    kind: str,
    path: str,
    original_name: str,
    sha256: str | None = None,
    max_uncompressed_bytes: int = 2 * 1024**3,
) -> Artifact:
    """Validate the file at `path` (already streamed to disk) and attach it to the version.
    `max_uncompressed_bytes`: how much of a compressed file may be inflated (the web process
    passes EVIDENCE_WEB_MAX_UNCOMPRESSED_BYTES; larger uploads are parsed by a worker,
    evidence/queued.py)."""
    model = version.model
    ensure_may(user, Action.REGISTER_VERSION, model, f"Uploading evidence for {model.name}")
    if kind not in EvidenceKind.values:
        raise EvidenceError(
            f"unknown evidence kind {kind!r}; use one of: {', '.join(EvidenceKind.values)}",
            field="kind",
        )
    original_name = os.path.basename(original_name or "upload")[:255] or "upload"
    sha256 = sha256 or sha256_of_file(path)
    size = os.path.getsize(path)
    workdir = tempfile.mkdtemp(prefix="evidence-")
    created_names: list[str] = []
    try:
        parsed: ParsedEvidence = parse_evidence(
            kind,
            path,
            original_name=original_name,
            columnar_dir=workdir,
            max_uncompressed_bytes=max_uncompressed_bytes,
        )
        with transaction.atomic():
            blob = Blob.objects.select_for_update().filter(sha256=sha256).first()
            if blob is None:
                blob = Blob(sha256=sha256, size=size)
                with open(path, "rb") as fh:
                    blob.file.save(f"{sha256}", File(fh), save=False)
                created_names.append(blob.file.name)
                blob.save(force_insert=True)
            if parsed.columnar_path and not blob.columnar_file:
                with open(parsed.columnar_path, "rb") as fh:
                    name = default_storage.save(_columnar_name(sha256), File(fh))
                created_names.append(name)
                Blob.objects.filter(pk=blob.pk).update(columnar_file=name)
                blob.columnar_file = name
            artifact = Artifact.objects.create(
                version=version,
                kind=kind,
                blob=blob,
                original_name=original_name,
                content_type=SAFE_CONTENT_TYPES.get(parsed.format, "application/octet-stream"),
                format=parsed.format,
                row_count=parsed.row_count,
                columns=list(parsed.columns),
                profile=parsed.profile,
                data=parsed.data if kind != EvidenceKind.ATTACHMENT else None,
                uploaded_by=user,
            )
            _audit_version(
                user,
                "evidence.uploaded",
                artifact,
                version,
                kind=kind,
                sha256=sha256,
                size=size,
                name=original_name,
                rows=parsed.row_count,
            )
            evidence_changed.send(
                sender=Artifact, version_id=version.pk, actor=user, what=f"{kind.replace('_', ' ')} evidence uploaded"
            )
    except BaseException:
        for name in created_names:
            try:
                default_storage.delete(name)
            except Exception:  # pragma: no cover - best effort clean-up
                log.warning("could not remove %s after a failed upload", name)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return artifact


def columnar_local_path(blob: Blob) -> str:
    """A local path of the Parquet copy (downloaded once from remote storage if needed)."""
    if not blob.columnar_file:
        raise EvidenceError("this artifact has no table copy")
    try:
        return default_storage.path(blob.columnar_file)
    except NotImplementedError:
        cache = Path(tempfile.gettempdir()) / "governance-columnar"
        cache.mkdir(exist_ok=True)
        target = cache / f"{blob.sha256}.parquet"
        if not target.exists():
            with (
                default_storage.open(blob.columnar_file, "rb") as src,
                open(f"{target}.part", "wb") as dst,
            ):
                shutil.copyfileobj(src, dst, 1024 * 1024)
            os.replace(f"{target}.part", target)
        return str(target)


@transaction.atomic
def document_save(*, user, version: ModelVersion, kind: str, fields: dict, content: str = "") -> Document:
    model = version.model
    ensure_may(user, Action.REGISTER_VERSION, model, f"Editing documents of {model.name}")
    if kind not in DocumentKind.values:
        raise DocumentError({"kind": f"unknown document kind {kind!r}; use one of: {', '.join(DocumentKind.values)}"})
    if not isinstance(fields, dict):
        raise DocumentError({"fields": "expected an object of field name to text"})
    if not isinstance(content, str):
        raise DocumentError({"content": "expected Markdown text"})
    if len(content) > 200_000:
        raise DocumentError({"content": "at most 200,000 characters"})
    unstorable = {
        name: problem
        for name, value in [("content", content), *fields.items()]
        if (problem := text_problem(str(name)) or (text_problem(value) if isinstance(value, str) else None))
    }
    if unstorable:  # NUL or a lone surrogate: PostgreSQL could not store it
        raise DocumentError(unstorable)
    errors = validate_document(kind, fields)
    if errors:
        raise DocumentError(errors)
    ModelVersion.objects.select_for_update().filter(pk=version.pk).first()  # serialise revisions
    latest = Document.objects.filter(version=version, kind=kind).aggregate(n=Max("revision"))["n"] or 0
    document = Document.objects.create(
        version=version,
        kind=kind,
        revision=latest + 1,
        fields=fields,
        content=content,
        author=user,
    )
    _audit_version(
        user,
        "document.saved",
        document,
        version,
        kind=kind,
        revision=document.revision,
        missing_fields=document_missing_fields(kind, fields, content),
    )
    evidence_changed.send(
        sender=Document,
        version_id=version.pk,
        actor=user,
        what=f"{kind.replace('_', ' ')} revised (r{document.revision})",
    )
    return document
