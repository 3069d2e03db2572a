"""Webhooks of a team and their delivery log, for pipelines (docs/api.md, "Webhooks").

Thin: `webhooks.selectors` finds the team (404 unless the caller may manage its webhooks),
a serializer checks the shapes, one `webhooks.services` call does the change. The secret is
in the answer of a create and of a rotation only.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.idempotency import idempotent
from governance.api.lists import PAGE_PARAMETERS, page_of, page_response
from governance.webhooks import selectors, services
from governance.webhooks.events import EVENT_TYPES
from governance.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Webhook


class WebhookIn(serializers.Serializer):
    url = serializers.CharField(max_length=2000, trim_whitespace=True)
    events = serializers.ListField(
        child=serializers.CharField(max_length=40), help_text=f"Event types: {', '.join(EVENT_TYPES)}."
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class WebhookPatchIn(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class WebhookOut(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name")
    created_by = serializers.CharField(source="created_by.username")
    secret_prefix = serializers.CharField(help_text="The secret's first characters; the secret itself is shown once.")

    class Meta:
        model = Webhook
        fields = [
            "id",
            "team",
            "url",
            "description",
            "events",
            "active",
            "secret_prefix",
            "secret_rotated_at",
            "created_by",
            "created_at",
            "updated_at",
        ]


class WebhookWithSecretOut(WebhookOut):
    secret = serializers.SerializerMethodField(help_text="Shown in this answer only: store it now.")

    class Meta(WebhookOut.Meta):
        fields = [*WebhookOut.Meta.fields, "secret"]

    def get_secret(self, obj) -> str:
        return self.context["secret"]


class DeliveryOut(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "webhook",
            "event_type",
            "event_id",
            "status",
            "attempts",
            "response_code",
            "response_excerpt",
            "duration_ms",
            "error",
            "created_at",
            "next_attempt_at",
            "finished_at",
            "redelivery_of",
            "requested_by",
        ]


class AttemptOut(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "duration_ms", "response_code", "response_excerpt", "error"]


class DeliveryDetailOut(DeliveryOut):
    attempt_log = AttemptOut(many=True)

    class Meta(DeliveryOut.Meta):
        fields = [*DeliveryOut.Meta.fields, "payload", "attempt_log"]


class DeliveryFilterIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False, allow_blank=True, default="")
    event_type = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)


def _valid(serializer: type[serializers.Serializer], data) -> dict:
    checked = serializer(data=data)
    checked.is_valid(raise_exception=True)
    return dict(checked.validated_data)


def _webhook(request, team: str, pk: int) -> Webhook:
    return selectors.webhook_of_team(selectors.team_for_manager(request.user, team), pk)


class WebhookListView(APIView):
    @extend_schema(
        operation_id="v1_teams_webhooks_list",
        parameters=PAGE_PARAMETERS,
        responses={200: page_of(WebhookOut, "WebhookPage")},
    )
    def get(self, request, team):
        team = selectors.team_for_manager(request.user, team)
        return page_response(request, selectors.webhooks_of_team(team), WebhookOut)

    @extend_schema(request=WebhookIn, responses={201: WebhookWithSecretOut})
    @idempotent
    def post(self, request, team):
        team = selectors.team_for_manager(request.user, team)
        data = _valid(WebhookIn, request.data)
        webhook, secret = services.webhook_create(user=request.user, team=team, **data)
        return Response(WebhookWithSecretOut(webhook, context={"secret": secret}).data, status=201)


class WebhookDetailView(APIView):
    @extend_schema(responses={200: WebhookOut})
    def get(self, request, team, pk):
        return Response(WebhookOut(_webhook(request, team, pk)).data)

    @extend_schema(request=WebhookPatchIn, responses={200: WebhookOut})
    def patch(self, request, team, pk):
        webhook = _webhook(request, team, pk)
        data = _valid(WebhookPatchIn, request.data)
        webhook = services.webhook_update(user=request.user, webhook=webhook, **data)
        return Response(WebhookOut(webhook).data)

    @extend_schema(responses={204: None})
    def delete(self, request, team, pk):
        services.webhook_delete(user=request.user, webhook=_webhook(request, team, pk))
        return Response(status=204)


class WebhookRotateView(APIView):
    @extend_schema(request=None, responses={200: WebhookWithSecretOut})
    def post(self, request, team, pk):
        webhook, secret = services.webhook_rotate_secret(user=request.user, webhook=_webhook(request, team, pk))
        return Response(WebhookWithSecretOut(webhook, context={"secret": secret}).data)


class WebhookTestView(APIView):
    @extend_schema(request=None, responses={202: DeliveryOut})
    def post(self, request, team, pk):
        delivery = services.webhook_ping(user=request.user, webhook=_webhook(request, team, pk))
        return Response(DeliveryOut(delivery).data, status=202)


class DeliveryListView(APIView):
    @extend_schema(
        operation_id="v1_teams_webhooks_deliveries_list",
        parameters=[DeliveryFilterIn, *PAGE_PARAMETERS],
        responses={200: page_of(DeliveryOut, "DeliveryPage")},
    )
    def get(self, request, team, pk):
        webhook = _webhook(request, team, pk)
        filters = _valid(DeliveryFilterIn, request.query_params)
        return page_response(request, selectors.deliveries_of(webhook, **filters), DeliveryOut)


class DeliveryDetailView(APIView):
    @extend_schema(responses={200: DeliveryDetailOut})
    def get(self, request, team, pk, delivery):
        return Response(DeliveryDetailOut(selectors.delivery_of(_webhook(request, team, pk), delivery)).data)


class DeliveryRedeliverView(APIView):
    @extend_schema(request=None, responses={202: DeliveryOut})
    def post(self, request, team, pk, delivery):
        original = selectors.delivery_of(_webhook(request, team, pk), delivery)
        again = services.delivery_redeliver(user=request.user, delivery=original)
        return Response(DeliveryOut(again).data, status=202)
