"""Evidence parsed by a worker: the 202 answer of a large upload and its status URL.

POST .../evidence/ answers 201 with the artifact for an upload parsed at once, or 202 with
this payload for one parsed by a worker (docs/api.md, Large uploads); the client polls
`status_url` until `status` is `accepted` (with `artifact`) or `refused` (with `error`, the
parser's JSON error, as a 4xx would have carried it).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import require
from governance.accounts.roles import Action
from governance.api import serializers as s
from governance.evidence.models import ParseStatus, QueuedUpload


def queued_upload_out(upload: QueuedUpload) -> dict:
    accepted = upload.status == ParseStatus.ACCEPTED and upload.artifact_id
    return {
        "id": str(upload.pk),
        "status": upload.status,
        "model": upload.version.model.name,
        "version": upload.version.version,
        "kind": upload.kind,
        "original_name": upload.original_name,
        "sha256": upload.sha256,
        "size": upload.size,
        "status_url": reverse("api:evidence_upload", args=[upload.pk]),
        "created_at": upload.created_at.isoformat(),
        "finished_at": upload.finished_at.isoformat() if upload.finished_at else None,
        "artifact": s.ArtifactOut(upload.artifact).data if accepted else None,
        "error": upload.error if upload.status == ParseStatus.REFUSED else None,
    }


class QueuedUploadView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        upload = get_object_or_404(
            QueuedUpload.objects.select_related("version__model__team", "artifact__blob", "artifact__uploaded_by"),
            pk=pk,
        )
        require(request.user, Action.VIEW, upload.version.model)
        return Response(queued_upload_out(upload))
