"""HTTP API for pipelines (DESIGN.md). Thin: permission helper → serializer → one service."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.models import Team
from governance.accounts.permissions import audit_scope, require, user_may_manage_roles
from governance.accounts.roles import Action
from governance.accounts.selectors import role_holdings
from governance.accounts.services import role_grant, role_revoke
from governance.api import serializers as s
from governance.api.idempotency import idempotent
from governance.api.lists import (
    PAGE_PARAMETERS,
    EvidenceFilterIn,
    Pagination,
    VersionFilterIn,
    page_of,
    page_response,
)
from governance.api.parsers import SafeFormParser, SafeJSONParser, SafeMultiPartParser
from governance.api.uploads import queued_upload_out
from governance.approvals import services as promotions
from governance.approvals.acceptances import gate_acceptance_views
from governance.approvals.history import parse_at, served_at
from governance.approvals.models import PromotionRequest
from governance.approvals.selectors import request_for_user
from governance.audit.exports import audit_export_start, csv_response
from governance.audit.selectors import AuditFilters, audit_events
from governance.core.errors import DomainError
from governance.evidence.models import Artifact, QueuedUpload
from governance.evidence.queued import evidence_receive
from governance.evidence.services import document_save
from governance.evidence.uploads import received_file
from governance.registry import services as registry
from governance.registry.models import ModelVersion
from governance.registry.selectors import get_model_for_user, models_for_list, role_change_subjects


def _valid(serializer: type[serializers.Serializer], data) -> dict:
    """The validated input, or a 400 JSON error naming each bad field."""
    checked = serializer(data=data)
    checked.is_valid(raise_exception=True)
    return dict(checked.validated_data)


def _version(user, name: str, number: int, action: str = Action.VIEW) -> ModelVersion:
    model = get_model_for_user(user, name, action)
    return get_object_or_404(ModelVersion.objects.select_related("model__team"), model=model, version=number)


class ModelListView(APIView):
    @extend_schema(request=s.ModelCreateIn, responses={201: s.ModelOut})
    @idempotent
    def post(self, request):
        data = _valid(s.ModelCreateIn, request.data)
        team_name = data.pop("team")
        team = Team.objects.filter(name=team_name).first()
        if team is None:
            raise DomainError(f"No team {team_name!r}.", field="team")
        model = registry.model_create(user=request.user, team=team, **data)
        return Response(s.ModelOut(model).data, status=201)

    @extend_schema(
        operation_id="v1_models_list",
        parameters=[s.ModelFilterIn, *PAGE_PARAMETERS],
        responses={200: page_of(s.ModelOut, "ModelPage")},
    )
    def get(self, request):
        filters = _valid(s.ModelFilterIn, request.query_params)
        models = models_for_list(request.user, **filters, counts=False).values(*s.MODEL_OUT_VALUES)
        return page_response(request, models, render=s.models_out)


class ModelDetailView(APIView):
    @extend_schema(responses={200: s.ModelOut})
    def get(self, request, name):
        return Response(s.ModelOut(get_model_for_user(request.user, name)).data)


class VersionListView(APIView):
    @extend_schema(request=s.VersionCreateIn, responses={201: s.VersionOut})
    @idempotent
    def post(self, request, name):
        model = get_model_for_user(request.user, name, Action.REGISTER_VERSION)
        data = _valid(s.VersionCreateIn, request.data)
        version = registry.version_register(user=request.user, model=model, **data)
        return Response(s.VersionOut(version).data, status=201)

    @extend_schema(
        operation_id="v1_models_versions_list",
        parameters=[VersionFilterIn, *PAGE_PARAMETERS],
        responses={200: page_of(s.VersionOut, "VersionPage")},
    )
    def get(self, request, name):
        model = get_model_for_user(request.user, name)
        filters = _valid(VersionFilterIn, request.query_params)
        versions = model.versions.select_related("model", "created_by").order_by("-version")
        if filters["stage"]:
            versions = versions.filter(stage=filters["stage"])
        return page_response(request, versions, s.VersionOut)


class VersionDetailView(APIView):
    @extend_schema(responses={200: s.VersionOut})
    def get(self, request, name, number):
        return Response(s.VersionOut(_version(request.user, name, number)).data)


class EvidenceView(APIView):
    parser_classes = [SafeMultiPartParser, SafeFormParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"kind": {"type": "string"}, "file": {"type": "string", "format": "binary"}},
            }
        },
        responses={201: s.ArtifactOut, 202: OpenApiTypes.OBJECT},
    )
    @idempotent
    def post(self, request, name, number):
        version = _version(request.user, name, number, Action.REGISTER_VERSION)
        received = received_file(request)  # first: the upload handler streams, hashes and counts the file
        data = _valid(s.EvidenceIn, request.data)
        received_as = evidence_receive(user=request.user, version=version, kind=data["kind"], **vars(received))
        if isinstance(received_as, QueuedUpload):  # large: parsed by a worker, poll its status_url
            return Response(queued_upload_out(received_as), status=202)
        return Response(s.ArtifactOut(received_as).data, status=201)

    @extend_schema(
        operation_id="v1_models_versions_evidence_list",
        parameters=[EvidenceFilterIn, *PAGE_PARAMETERS],
        responses={200: page_of(s.ArtifactOut, "ArtifactPage")},
    )
    def get(self, request, name, number):
        version = _version(request.user, name, number)
        filters = _valid(EvidenceFilterIn, request.query_params)
        artifacts = Artifact.objects.filter(version=version).select_related("blob", "uploaded_by")
        if filters["kind"]:
            artifacts = artifacts.filter(kind=filters["kind"])
        return page_response(request, artifacts.order_by("kind", "-created_at", "-pk"), s.ArtifactOut)


class DocumentView(APIView):
    parser_classes = [SafeJSONParser]

    @extend_schema(request=s.DocumentIn, responses={201: OpenApiTypes.OBJECT})
    @idempotent
    def post(self, request, name, number):
        version = _version(request.user, name, number, Action.REGISTER_VERSION)
        data = _valid(s.DocumentIn, request.data)
        document = document_save(
            user=request.user,
            version=version,
            kind=data["kind"],
            fields=data["fields"],
            content=data["content"],
        )
        from governance.evidence.documents import document_missing_fields

        return Response(
            {
                "kind": document.kind,
                "revision": document.revision,
                "missing_fields": document_missing_fields(document.kind, document.fields, document.content),
            },
            status=201,
        )


class PromotionCreateView(APIView):
    @extend_schema(request=s.PromotionIn, responses={201: OpenApiTypes.OBJECT})
    @idempotent
    def post(self, request, name, number):
        version = _version(request.user, name, number, Action.REQUEST)
        data = _valid(s.PromotionIn, request.data)
        promotion = promotions.promotion_request(user=request.user, version=version, **data)
        return Response(_promotion_payload(promotion, request.user), status=201)


def _promotion_payload(promotion: PromotionRequest | int, user) -> dict:
    """The request as `promotion_out` shows it, read fresh (after a change, too). The user's
    roles are resolved once (`request_for_user`) for the view check, the decision right and
    the gate acceptances."""
    seen = request_for_user(user, promotion if isinstance(promotion, int) else promotion.pk)
    runs = list(seen.request.gate_runs.current())
    acceptances = gate_acceptance_views(user, seen.request, runs, seen.slot_state, seen.roles)
    return s.promotion_out(seen.request, seen.slot_state, runs, seen.right, acceptances)


def _promotion_for(user, pk: int) -> PromotionRequest:
    promotion = get_object_or_404(PromotionRequest.objects.select_related("version__model__team"), pk=pk)
    require(user, Action.VIEW, promotion.version.model)
    return promotion


class PromotionDetailView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        return Response(_promotion_payload(pk, request.user))


class DecisionView(APIView):
    @extend_schema(request=s.DecisionIn, responses={201: OpenApiTypes.OBJECT})
    @idempotent
    def post(self, request, pk):
        promotion = _promotion_for(request.user, pk)
        values = _valid(s.DecisionIn, request.data)
        values["role"] = values.get("role") or None
        promotions.promotion_decide(user=request.user, request=promotion, **values)
        return Response(_promotion_payload(promotion, request.user), status=201)


class GateAcceptView(APIView):
    """A person of the policy's accept_by role accepts an inconclusive gate, with a reason."""

    @extend_schema(request=s.GateAcceptIn, responses={201: OpenApiTypes.OBJECT})
    @idempotent
    def post(self, request, pk, gate_id):
        promotion = _promotion_for(request.user, pk)
        data = _valid(s.GateAcceptIn, request.data)
        promotions.promotion_gate_accept(user=request.user, request=promotion, gate_id=gate_id, **data)
        return Response(_promotion_payload(promotion, request.user), status=201)


class CancelView(APIView):
    @extend_schema(request=s.CancelIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk):
        promotion = _promotion_for(request.user, pk)
        data = _valid(s.CancelIn, request.data)
        promotions.promotion_cancel(user=request.user, request=promotion, reason=data["reason"])
        return Response(_promotion_payload(promotion, request.user))


class ResubmitView(APIView):
    """After changes were requested: back to the gates on the evidence as it is now."""

    @extend_schema(request=s.ResubmitIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk):
        promotion = _promotion_for(request.user, pk)
        data = _valid(s.ResubmitIn, request.data)
        promotions.promotion_resubmit(user=request.user, request=promotion, note=data["note"])
        return Response(_promotion_payload(promotion, request.user))


class RollbackView(APIView):
    @extend_schema(request=s.ReasonIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, name):
        model = get_model_for_user(request.user, name, Action.ROLLBACK)
        data = _valid(s.ReasonIn, request.data)
        restored = promotions.promotion_rollback(user=request.user, model=model, **data)
        return Response({"model": model.name, "production_version": restored.version})


AUDIT_ROW = {  # stored column -> its name in the API's audit rows (docs/api.md), in order
    "seq": "seq",
    "created_at": "created_at",
    "actor_label": "actor",
    "action": "action",
    "object_type": "object_type",
    "object_id": "object_id",
    "model_name": "model",
    "data": "data",
    "prev_hash": "prev_hash",
    "hash": "hash",
}


class AuditListView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        filters = AuditFilters.from_query(request.query_params)
        if filters.model:
            get_model_for_user(request.user, filters.model)  # 404 for a model the user cannot see
        qs = audit_events(scope=audit_scope(request.user), filters=filters)
        # Plain rows: the page needs no actor join and no model instances.
        rows = qs.values(*AUDIT_ROW)
        page = self.paginator.paginate_queryset(rows, request, view=self)
        return self.paginator.get_paginated_response(
            [
                {name: e[column] for column, name in AUDIT_ROW.items()} | {"created_at": e["created_at"].isoformat()}
                for e in page
            ]
        )

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            self._paginator = Pagination()
        return self._paginator


class AuditCsvView(APIView):
    """The events of GET /api/v1/audit/ (same filters, same scope) as streamed CSV."""

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request):
        filters = AuditFilters.from_query(request.query_params)
        if filters.model:
            get_model_for_user(request.user, filters.model)  # 404 for a model the user cannot see
        lines = audit_export_start(user=request.user, scope=audit_scope(request.user), filters=filters, via="api")
        return csv_response(lines)


class ModelHistoryView(APIView):
    """Who served at time T (DESIGN.md contract): {model, at, version, since, until,
    request_id, change_type, approvals[], evidence[], policy}; version null before the first
    promotion."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, name):
        model = get_model_for_user(request.user, name)
        return Response(served_at(model, parse_at(request.query_params.get("at"))))


class RoleView(APIView):
    """Who holds which role where (GET, admins); grant (POST) and revoke (DELETE) roles."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        if not user_may_manage_roles(request.user):
            raise PermissionDenied("Only admins list role grants.")
        return Response(
            {
                "results": [
                    {"scope": h.scope, "target": h.target, "user": h.username, "roles": list(h.roles)}
                    for h in role_holdings()
                ]
            }
        )

    @extend_schema(request=s.RoleGrantIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        return self._apply(request, grant=True)

    @extend_schema(request=s.RoleGrantIn, responses={200: OpenApiTypes.OBJECT})
    def delete(self, request):
        return self._apply(request, grant=False)

    def _apply(self, request, *, grant: bool):
        if not user_may_manage_roles(request.user):
            raise PermissionDenied("Only admins grant or revoke roles.")
        values = _valid(s.RoleGrantIn, request.data)
        user, team, model = role_change_subjects(username=values["user"], team=values["team"], model=values["model"])
        (role_grant if grant else role_revoke)(
            actor=request.user, user=user, role=values["role"], team=team, model=model
        )
        return Response(
            {
                "user": user.get_username(),
                "role": values["role"],
                "team": values["team"] or None,
                "model": values["model"] or None,
                "granted": grant,
            }
        )
