"""The OpenAPI schema documents the errors every operation can answer, in the JSON error format.

drf-spectacular documents only the success codes a view declares. Every API error has one
shape (governance.api.errors: `{"error": {"code", "message", "fields"}}`), so this AutoSchema
adds it to each operation for the codes that operation can really answer, unless the view
already documents that code itself (its own `extend_schema(responses=...)` wins):

- 400 bad input (query parameters or body), 401 no or bad credentials, 403 no role,
  429 throttled (failed-token throttle on every endpoint; dry runs' per-user rate);
- 404 when the path names something (`{name}`, `{id}`, ...);
- 409 and 413 (body over the upload limits) on POST, PUT, PATCH; 409 on DELETE.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    "400": "Bad input: `fields` names each offending field with its messages.",
    "401": "No credentials, or an unknown, expired or revoked token.",
    "403": "Your roles do not allow this.",
    "404": "Nothing by that name or id that you may see.",
    "409": "Conflicts with the current state (stage, an earlier decision, an Idempotency-Key reused "
    "with another body, ...).",
    "413": "The body is over the size limits.",
    "429": "Too many requests (see Retry-After).",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. `invalid`, `not_found`, `forbidden`.")
    message = serializers.CharField(help_text="One sentence for a human.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Offending field (dotted for nested) to its messages; empty when not about a field.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()

    class Meta:
        ref_name = "Error"


class GovernanceAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["409", "413"]
        elif self.method == "DELETE":
            codes.append("409")
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses
