"""POST /api/v1/models/{name}/versions/import-mlflow/: a version from an MLflow run.

Multipart: a `run` part (JSON: the run as `govern import-mlflow` read it) and one file part
per run artifact, named by its artifact path. The mapping is `imports/mlflow.py`.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.roles import Action
from governance.api import serializers as s
from governance.api.idempotency import idempotent
from governance.api.parsers import SafeMultiPartParser
from governance.api.uploads import queued_upload_out
from governance.core.errors import DomainError
from governance.core.inputs import json_loads
from governance.evidence.uploads import received_file
from governance.imports.mlflow import RunFile, mlflow_run_import
from governance.registry.selectors import get_model_for_user

RUN_PART = "run"


class MlflowImportView(APIView):
    parser_classes = [SafeMultiPartParser]

    @extend_schema(
        operation_id="v1_models_versions_import_mlflow",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    RUN_PART: {"type": "string", "description": "the MLflow run as JSON (docs/api.md)"},
                },
                "additionalProperties": {"type": "string", "format": "binary"},
                "required": [RUN_PART],
            }
        },
        responses={201: OpenApiTypes.OBJECT},
    )
    @idempotent
    def post(self, request, name):
        model = get_model_for_user(request.user, name, Action.REGISTER_VERSION)
        files = {}
        for field in request.FILES:  # first: the upload handler streams, hashes and counts each file
            received = received_file(request, field)
            if field != RUN_PART:
                files[field] = RunFile(path=field, local_path=received.path, sha256=received.sha256)
        if RUN_PART in request.FILES:  # a large run may come as a file part
            raw = request.FILES[RUN_PART].read(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
        else:
            raw = request.data.get(RUN_PART)
        if not raw:
            raise DomainError(
                "Send the MLflow run as the multipart field 'run' (JSON).",
                fields={RUN_PART: ["This field is required."]},
            )
        run = json_loads(raw, field=RUN_PART, max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        result = mlflow_run_import(user=request.user, model=model, run=run, files=files)
        body = dict(s.VersionOut(result.version).data)
        queued = [{"path": path, **queued_upload_out(upload)} for path, upload in result.queued]
        body.update(evidence=result.evidence, queued=queued, documents=result.documents, skipped=result.skipped)
        return Response(body, status=201)
