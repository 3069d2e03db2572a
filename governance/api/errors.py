"""Every API error is JSON: {"error": {"code", "message", "fields"}} (DESIGN.md contract)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from governance.approvals.services import PromotionError
from governance.registry.services import RegistryError

CODE_STATUS = {
    "conflict": status.HTTP_409_CONFLICT,
    "invalid_state": status.HTTP_409_CONFLICT,
    "duplicate": status.HTTP_409_CONFLICT,
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> dict:
    if isinstance(detail, dict):
        out = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            else:
                out[key] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return out
    return {"non_field_errors": [str(v) for v in (detail if isinstance(detail, list) else [detail])]}


def json_exception_handler(exc, context):
    from governance.evidence.parsers import EvidenceError
    from governance.policies.loader import PolicyError

    if isinstance(exc, PromotionError):
        fields = {exc.field: [exc.message]} if exc.field else {}
        return Response(error_body(exc.code, exc.message, fields), status=CODE_STATUS.get(exc.code, 400))
    if isinstance(exc, RegistryError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=CODE_STATUS.get(exc.code, 400))
    if isinstance(exc, EvidenceError):
        return Response(
            error_body("invalid_evidence", str(exc), {getattr(exc, "field", "file") or "file": [str(exc)]}), status=400
        )
    if isinstance(exc, PolicyError):
        issues = [str(i) for i in exc.issues]
        return Response(error_body("invalid_policy", issues[0] if issues else str(exc), {"policy": issues}), status=400)
    if isinstance(exc, DjangoValidationError):
        fields = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": exc.messages}
        )
        return Response(error_body("invalid", "; ".join(m for v in fields.values() for m in v), fields), status=400)
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return Response(error_body("not_found", str(exc) or "Not found."), status=404)
    if isinstance(exc, (DjangoPermissionDenied, exceptions.PermissionDenied)):
        message = str(exc.detail if hasattr(exc, "detail") else exc) or "You may not do this."
        return Response(error_body("forbidden", message), status=403)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
        response.data = error_body("invalid", message, fields)
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response.data = error_body(code, str(exc.detail))
    return response


def api_not_found(request, exception=None):
    return JsonResponse(error_body("not_found", f"No endpoint {request.path}."), status=404)


def api_server_error(request):
    return JsonResponse(error_body("server_error", "Internal error; it has been logged."), status=500)
