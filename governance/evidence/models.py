"""Evidence attached to model versions.

Files are content-addressed: a Blob is stored once per sha256 and never changed; an
Artifact says "this version has this blob as evidence of this kind". Documents are
versioned: each save is a new revision, the newest one is current.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from governance.core.vocabulary import DOCUMENT_KINDS, EVIDENCE_KINDS, choices
from governance.registry.models import ModelVersion

# Choices built from the one vocabulary: EvidenceKind.PREDICTIONS == "predictions", etc.
EvidenceKind = models.TextChoices("EvidenceKind", choices(EVIDENCE_KINDS))
DocumentKind = models.TextChoices("DocumentKind", choices(DOCUMENT_KINDS))


def blob_path(instance: Blob, filename: str) -> str:
    return f"blobs/{instance.sha256[:2]}/{instance.sha256}"


class Blob(models.Model):
    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    file = models.FileField(upload_to=blob_path, max_length=300)
    # Parquet copy of a table, made once on acceptance; gates read only the columns they need.
    columnar_file = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256[:12]


class Artifact(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="artifacts")
    kind = models.CharField(max_length=30, choices=EvidenceKind.choices)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="artifacts")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    format = models.CharField(max_length=20)
    row_count = models.BigIntegerField(null=True, blank=True)
    columns = models.JSONField(default=list)
    profile = models.JSONField(default=dict)
    data = models.JSONField(null=True, blank=True)  # parsed JSON kinds (metrics, sbom, ...)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version_id", "kind", "-created_at"]
        indexes = [models.Index(fields=["version", "kind", "-created_at"])]  # latest of a kind

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name} ({self.blob_id[:12]})"

    @property
    def sha256(self) -> str:
        return self.blob_id

    @property
    def size(self) -> int:
        return self.blob.size


class Document(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    revision = models.PositiveIntegerField()
    fields = models.JSONField(default=dict)
    content = models.TextField(blank=True, max_length=200_000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version_id", "kind", "-revision"]
        constraints = [models.UniqueConstraint(fields=["version", "kind", "revision"], name="document_revision_unique")]

    def __str__(self) -> str:
        return f"{self.kind} r{self.revision} of {self.version}"


class ParseStatus(models.TextChoices):
    QUEUED = "queued", "Parsing queued"
    PARSING = "parsing", "Parsing"
    ACCEPTED = "accepted", "Accepted"
    REFUSED = "refused", "Refused"


class QueuedUpload(models.Model):
    """A large upload parsed by a worker (evidence/queued.py). Not evidence: gates read only
    Artifacts, and the Artifact is created, in the parse's transaction, only if the file is
    accepted. Until then the file waits, content-addressed, under `stored_name`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # the status URL's
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="queued_uploads")
    kind = models.CharField(max_length=30, choices=EvidenceKind.choices)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    stored_name = models.CharField(max_length=300)
    status = models.CharField(max_length=20, choices=ParseStatus.choices, default=ParseStatus.QUEUED)
    error = models.JSONField(null=True, blank=True)  # {"code", "message", "fields"} when refused
    artifact = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]  # the sweep

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name} ({self.status})"
