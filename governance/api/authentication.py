"""Bearer tokens stored as sha256: `Authorization: Token <key>` (or `Bearer <key>`).

A revoked or expired token gets 401 saying so. A service token (scoped to teams) limits the
request's user to those teams (accounts.permissions.token_scope_set). The token's id and
prefix go into the request's audit context: every event the request writes names it.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from governance.accounts.models import ApiToken
from governance.accounts.permissions import token_scope_set
from governance.api.throttling import token_failure_record, token_failures_check
from governance.audit.context import request_token_set

LAST_USED_RESOLUTION = timedelta(minutes=1)


class HashedTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in self.keywords:
            return None
        token_failures_check(request)  # 429 after too many wrong tokens from this address
        if len(header) != 2:
            token_failure_record(request)
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Token <key>'.")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            token_failure_record(request)
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        # Whether it is a service token comes with the token (a personal one, most of them,
        # then costs no query for its teams).
        scoped = Exists(ApiToken.teams.through.objects.filter(apitoken_id=OuterRef("pk")))
        token = (
            ApiToken.objects.select_related("user")
            .annotate(scoped=scoped)
            .filter(key_hash=ApiToken.hash_key(key))
            .first()
        )
        now = timezone.now()
        if token is None or not token.user.is_active:
            token_failure_record(request)
            raise exceptions.AuthenticationFailed("Invalid token.")
        # The key is right but no longer valid: say which, so the owner knows what to do.
        if token.revoked_at is not None:
            token_failure_record(request)
            raise exceptions.AuthenticationFailed(
                f"This API token ({token.prefix}) was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC; "
                "issue a new one."
            )
        if token.expired(now):
            token_failure_record(request)
            raise exceptions.AuthenticationFailed(
                f"This API token ({token.prefix}) expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; issue a new one."
            )
        # Pages show "last used" to the minute: writing it at most once a minute spares a busy
        # pipeline's every call an UPDATE and its commit.
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        team_ids = list(token.teams.values_list("pk", flat=True)) if token.scoped else []
        if team_ids:
            token_scope_set(token.user, team_ids)  # a service token: its teams only, never deciding
        # Every audit event written while serving this request names the token that acted.
        request_token_set(token_id=token.pk, prefix=token.prefix, scope="service" if team_ids else "personal")
        return (token.user, token)

    def authenticate_header(self, request):
        return "Token"


class HashedTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """OpenAPI description of HashedTokenAuthentication (drf-spectacular)."""

    target_class = HashedTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` (or `Bearer <key>`); keys come from the API tokens page, `POST /api/v1/tokens/` or `manage.py create_token`.",
        }
