"""Dry runs over the API (gates/dry_run.py): would this version pass its gates?

`POST /models/{name}/versions/{n}/dry-run/` queues the computation on a worker and answers
the result when it finishes within DRY_RUN_SYNC_WAIT_SECONDS, else 202 with the dry run to
poll (`GET /dry-runs/{id}/`, also in Location). Model owners, MLOps and approvers of the
model may (not auditors: 403); DRY_RUN_THROTTLE_RATE per user (429 with Retry-After).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api import serializers as s
from governance.api.throttling import DryRunThrottle
from governance.gates.dry_run import dry_run_for_user, dry_run_start, dry_run_wait
from governance.gates.models import DryRun, DryRunStatus
from governance.registry.models import ModelVersion
from governance.registry.selectors import get_model_for_user


def _when(value) -> str | None:
    return value.isoformat() if value else None


def dry_run_payload(run: DryRun, request) -> dict:
    """The dry run as the API and `govern dry-run` read it: status, verdict, gate outcomes."""
    result = run.result or {}
    done = run.status == DryRunStatus.DONE
    problems = list(result.get("problems") or [])
    if run.error:
        problems.append(run.error)
    return {
        "id": run.pk,
        "url": request.build_absolute_uri(reverse("api:dry_run_detail", args=[run.pk])),
        "status": run.status,  # queued | running | done | timed_out | error
        "verdict": run.verdict or None,  # pass | fail | inconclusive, once done
        "would_pass": run.verdict == "pass" if done else None,
        "model": run.version.model.name,
        "version": run.version.version,
        "transition": f"{run.from_stage}->{run.to_stage}",
        "policy": result.get("policy") or run.policy_name or None,
        "policy_version": result.get("policy_version"),
        "policy_sha256": result.get("policy_sha256"),
        "gates": result.get("gates") or [],
        "failing_gates": result.get("failing_gates") or [],
        "approvals": result.get("approvals") or [],
        "problems": problems,
        "error": run.error or None,
        "requested_by": run.requested_by.get_username(),
        "created_at": _when(run.created_at),
        "started_at": _when(run.started_at),
        "finished_at": _when(run.finished_at),
    }


def _answer(run: DryRun, request) -> Response:
    if run.finished:
        return Response(dry_run_payload(run, request))
    response = Response(dry_run_payload(run, request), status=202)
    response["Location"] = reverse("api:dry_run_detail", args=[run.pk])
    return response


class DryRunView(APIView):
    """POST only: a GET must never start a computation."""

    throttle_classes = [DryRunThrottle]

    @extend_schema(request=s.DryRunIn, responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT})
    def post(self, request, name, number):
        model = get_model_for_user(request.user, name)
        version = get_object_or_404(ModelVersion.objects.select_related("model"), model=model, version=number)
        data = s.DryRunIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        run = dry_run_start(
            user=request.user,
            version=version,
            to_stage=values["to_stage"],
            from_stage=values.get("from_stage"),
            policy_name=values.get("policy") or None,
        )
        return _answer(dry_run_wait(run), request)


class DryRunDetailView(APIView):
    @extend_schema(operation_id="dry_run_retrieve", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        return Response(dry_run_payload(dry_run_for_user(request.user, pk), request))
