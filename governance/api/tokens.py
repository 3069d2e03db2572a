"""API tokens over the API: list your own, issue one (the key shown once), revoke one.

`POST /tokens/` is deliberately not idempotent (no `Idempotency-Key` replay): a replay would
have to keep the clear key, and the key is never stored. A retried POST issues a second
token; revoke the one you did not keep. Who may issue and revoke which token is
accounts.permissions (`user_may_issue_token`, `user_may_revoke_token`).
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.models import ApiToken, Team
from governance.accounts.permissions import user_may_revoke_token
from governance.accounts.services import token_issue, token_revoke
from governance.api.lists import PAGE_PARAMETERS, page_response
from governance.core.errors import DomainError


class TokenIn(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="required for a service token (teams given)"
    )
    teams = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        max_length=50,
        help_text="team names: a service token limited to their models; none: a personal token",
    )


def token_status(token: ApiToken, now) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expired(now):
        return "expired"
    return "active"


def _when(value) -> str | None:
    return value.isoformat() if value else None


def token_payload(token: ApiToken, now=None) -> dict:
    """A token as its owner sees it: never the key (only its first characters, the prefix)."""
    teams = sorted(team.name for team in token.teams.all())
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "user": token.user.get_username(),
        "scope": "service" if teams else "personal",
        "teams": teams,
        "status": token_status(token, now or timezone.now()),
        "created_at": _when(token.created_at),
        "last_used_at": _when(token.last_used_at),
        "expires_at": _when(token.expires_at),
        "revoked_at": _when(token.revoked_at),
        "issued_by": token.issued_by.get_username() if token.issued_by else None,
    }


def tokens_of(user):
    return (
        ApiToken.objects.filter(user=user)
        .select_related("user", "issued_by")
        .prefetch_related("teams")
        .order_by("-created_at", "-pk")
    )


class TokenListView(APIView):
    @extend_schema(operation_id="tokens_list", parameters=PAGE_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        now = timezone.now()
        return page_response(
            request, tokens_of(request.user), render=lambda rows: [token_payload(t, now) for t in rows]
        )

    @extend_schema(request=TokenIn, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = TokenIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        teams = []
        for name in dict.fromkeys(values["teams"]):
            team = Team.objects.filter(name=name).first()
            if team is None:
                raise DomainError(f"teams: no team {name!r}.", field="teams")
            teams.append(team)
        acting = request.auth if isinstance(request.auth, ApiToken) else None
        token, key = token_issue(
            actor=request.user,
            user=request.user,
            name=values["name"],
            teams=teams,
            expires_at=values["expires_at"],
            via="api",
            not_after=acting.expires_at if acting else None,
        )
        body = token_payload(tokens_of(request.user).get(pk=token.pk))
        body["key"] = key  # shown this once; only its sha256 is kept
        response = Response(body, status=201)
        response["Cache-Control"] = "no-store"
        return response


class TokenDetailView(APIView):
    @extend_schema(operation_id="token_revoke", responses={200: OpenApiTypes.OBJECT})
    def delete(self, request, pk):
        token = ApiToken.objects.select_related("user").filter(pk=pk).first()
        mine = token is not None and token.user_id == request.user.pk
        if token is None or not (mine or user_may_revoke_token(request.user, token)):
            raise Http404("No such token.")
        token_revoke(actor=request.user, token=token)
        return Response(token_payload(tokens_of(token.user).get(pk=token.pk)))
