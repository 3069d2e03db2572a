"""Audit PDFs over the API (DESIGN.md): per request, version and model, period jobs, verify.

A report GET starts a build on a worker and answers the PDF itself when the worker finishes
within REPORT_SYNC_WAIT_SECONDS; otherwise 202 with the job (poll `GET /reports/{id}/`,
then download `file.pdf`). Model reports always answer 202: they are jobs.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.models import Team
from governance.api.idempotency import idempotent
from governance.api.lists import PAGE_PARAMETERS, page_response
from governance.api.parsers import SafeMultiPartParser
from governance.api.schema import ErrorSerializer
from governance.approvals.models import PromotionRequest
from governance.core.errors import DomainError
from governance.registry.models import ModelVersion
from governance.registry.selectors import get_model_for_user
from governance.reports import services as reports
from governance.reports.downloads import report_file_response
from governance.reports.models import Report, ReportScope, ReportStatus


def report_payload(report: Report, request) -> dict:
    done = report.status == ReportStatus.DONE
    return {
        "id": report.pk,
        "scope": report.scope,
        "title": report.title,
        "status": report.status,
        "progress": round(report.progress, 3),
        "stage": report.stage,
        "error": report.error or None,
        "sha256": report.sha256 or None,
        "pages": report.pages,
        "generated_at": report.generated_at.isoformat() if report.generated_at else None,
        "generated_by": report.requested_by.get_username(),
        "download_url": request.build_absolute_uri(reverse("api:report_file", args=[report.pk])) if done else None,
    }


def _answer(report: Report, request, *, wait: bool):
    """The PDF if the worker finished in time, else 202 with the job to poll."""
    if wait:
        report = reports.report_wait(report)
    if report.status == ReportStatus.DONE:
        return report_file_response(report, user=request.user, via="api")
    if report.status == ReportStatus.ERROR:
        raise DomainError(f"The report could not be built: {report.error}", code="invalid_state")
    reports.report_notify_later(report)
    body = report_payload(report, request)
    response = Response(body, status=202)
    response["Location"] = reverse("api:report", args=[report.pk])
    return response


class PromotionReportView(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 202: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        promotion = get_object_or_404(PromotionRequest.objects.select_related("version__model"), pk=pk)
        report = reports.report_start(user=request.user, scope=ReportScope.REQUEST, request=promotion)
        return _answer(report, request, wait=True)


class VersionReportView(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 202: OpenApiTypes.OBJECT})
    def get(self, request, name, number):
        model = get_model_for_user(request.user, name)
        version = get_object_or_404(ModelVersion.objects.select_related("model"), model=model, version=number)
        report = reports.report_start(user=request.user, scope=ReportScope.VERSION, version=version)
        return _answer(report, request, wait=True)


class ModelReportView(APIView):
    @extend_schema(responses={202: OpenApiTypes.OBJECT})
    def get(self, request, name):
        model = get_model_for_user(request.user, name)
        report = reports.report_start(user=request.user, scope=ReportScope.MODEL, model=model)
        return _answer(report, request, wait=False)


class PeriodReportIn(serializers.Serializer):
    scope = serializers.ChoiceField(choices=[ReportScope.PERIOD.value])
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(required=False)
    team = serializers.CharField(required=False, max_length=100)


class ReportListView(APIView):
    @extend_schema(request=PeriodReportIn, responses={202: OpenApiTypes.OBJECT})
    @idempotent
    def post(self, request):
        data = PeriodReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        team = None
        if values.get("team"):
            team = Team.objects.filter(name=values["team"]).first()
            if team is None:
                raise DomainError(f"No team {values['team']!r}.", field="team")
        report = reports.report_start(
            user=request.user,
            scope=ReportScope.PERIOD,
            team=team,
            since=values["since"],
            until=values.get("until"),
        )
        response = Response(report_payload(report, request), status=202)
        response["Location"] = reverse("api:report", args=[report.pk])
        return response

    @extend_schema(operation_id="reports_list", parameters=PAGE_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        qs = reports.reports_visible_to(request.user).order_by("-created_at", "-pk")
        return page_response(request, qs, render=lambda rows: [report_payload(r, request) for r in rows])


class ReportDetailView(APIView):
    @extend_schema(operation_id="report_retrieve", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        return Response(report_payload(reports.report_for_user(request.user, pk), request))


class ReportFileView(APIView):
    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            409: OpenApiResponse(ErrorSerializer, description="The report is not done (queued, running or failed)."),
        }
    )
    def get(self, request, pk):
        report = reports.report_for_user(request.user, pk)
        if report.status != ReportStatus.DONE:
            raise DomainError(f"Report #{report.pk} is {report.status}, not done.", code="conflict")
        return report_file_response(report, user=request.user, via="api")


class ReportVerifyView(APIView):
    parser_classes = [SafeMultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        report = reports.report_verify(user=request.user, uploaded=request.FILES.get("file"))
        return Response({"match": report is not None, "report": reports.report_summary(report)})
