"""`Idempotency-Key` on the API's creating POSTs: a retried request gets the original answer.

A client sends `Idempotency-Key: <any printable ASCII, at most 200 characters>`. The first
request with that key (per user) runs and, when it succeeds (2xx), its status and JSON body
are kept for IDEMPOTENCY_KEEP_SECONDS (24 h by default). The same key with the same body
(method, path, fields and the bytes of any uploaded file) then answers that stored response
without running again (header `Idempotent-Replayed: true`); the same key with a different
body is a 409 naming the header. A refused request keeps nothing, so it may be retried.

The record is inserted in the transaction that runs the view: a concurrent duplicate waits
on the unique (user, key) until the first commits, then replays its response (or runs, if
the first was refused and rolled back). Without the header nothing changes.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from governance.api.models import IdempotencyRecord
from governance.core.errors import DomainError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
REPLAYED_HEADER = "Idempotent-Replayed"


def keep_for() -> timedelta:
    return timedelta(seconds=getattr(settings, "IDEMPOTENCY_KEEP_SECONDS", 24 * 3600))


def checked_key(raw: str) -> str:
    """The header's value, or a 400 naming the header."""
    if not raw:
        problem = "Must not be empty."
    elif len(raw) > MAX_KEY_LENGTH:
        problem = f"At most {MAX_KEY_LENGTH} characters."
    elif any(not (" " <= ch <= "~") for ch in raw):
        problem = "Printable ASCII characters only (no NUL or control characters)."
    else:
        return raw
    raise DomainError(f"{HEADER}: {problem}", fields={HEADER: [problem]})


def _file_sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def request_fingerprint(request) -> str:
    """sha256 of the method, path, body fields and uploaded files' bytes (not the boundary)."""
    files = {name: [_file_sha256(f) for f in uploads] for name, uploads in request.FILES.lists()}
    data = request.data
    if hasattr(data, "lists"):  # form or multipart (DRF merges the files in: hashed above)
        data = {name: values for name, values in data.lists() if name not in files}
    facts = {"method": request.method, "path": request.path, "data": data, "files": files}
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _claim(user, key: str, fingerprint: str) -> IdempotencyRecord:
    """A new, empty record for this request, or the stored one of an earlier request.

    Inserting waits for a concurrent transaction holding the same (user, key); if that one
    commits, the insert fails and the committed record is returned.
    """
    IdempotencyRecord.objects.filter(user=user, created_at__lt=timezone.now() - keep_for()).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=user, key=key, fingerprint=fingerprint, status=0, body="", content_type=""
            )
    except IntegrityError:
        return IdempotencyRecord.objects.get(user=user, key=key)


def _replay(record: IdempotencyRecord, fingerprint: str) -> HttpResponse:
    if record.fingerprint != fingerprint:
        message = "was already used for a different request (another body or endpoint); use a new key."
        raise DomainError(f"{HEADER} {message}", code="conflict", fields={HEADER: [f"This key {message}"]})
    response = HttpResponse(record.body, status=record.status, content_type=record.content_type)
    if record.location:
        response["Location"] = record.location
    response[REPLAYED_HEADER] = "true"
    return response


def _keep(record: IdempotencyRecord, response) -> None:
    if not isinstance(response, Response) or not 200 <= response.status_code < 300:
        record.delete()  # refusals are not kept: the client may fix the request and retry
        return
    record.status = response.status_code
    record.body = JSONRenderer().render(response.data).decode("utf-8")
    record.content_type = "application/json"
    record.location = response.get("Location", "")[:500]
    record.save(update_fields=["status", "body", "content_type", "location"])


_HEADER_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Retry safely: the same key and body within 24 h answer the first response; "
    "another body with the same key is a 409.",
)


def idempotent(handler):
    """Decorate an APIView's creating `post` with Idempotency-Key handling."""

    @functools.wraps(handler)
    def wrapped(view, request, *args, **kwargs):
        raw = request.headers.get(HEADER)
        if raw is None:
            return handler(view, request, *args, **kwargs)
        key = checked_key(raw)
        fingerprint = request_fingerprint(request)
        with transaction.atomic():
            record = _claim(request.user, key, fingerprint)
            if record.status:
                return _replay(record, fingerprint)
            response = handler(view, request, *args, **kwargs)
            _keep(record, response)
            return response

    return extend_schema(parameters=[_HEADER_PARAMETER])(wrapped)
