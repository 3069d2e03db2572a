"""The audit trail as CSV: the audit page's link and `GET /api/v1/audit.csv` (DESIGN.md).

Streamed row by row over keyset pages (bounded memory, whatever the trail's size). Each
export is itself an audit event, recorded (and committed) before the first row: the file
holds the matching events up to the one before it, so two people exporting the same filters
get the same rows. Cells a spreadsheet would read as a formula are neutralised.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.utils import timezone

from governance.audit.selectors import AuditFilters, audit_events, iter_in_chunks
from governance.audit.sentences import event_sentence
from governance.audit.services import audit_record

COLUMNS = (
    "seq",
    "created_at",
    "actor",
    "action",
    "sentence",
    "model",
    "object_type",
    "object_id",
    "data",
    "prev_hash",
    "hash",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A cell's text; one a spreadsheet would run as a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(event) -> list[str]:
    data = json.dumps(event.data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    values = (
        event.seq,
        event.created_at.isoformat(),
        event.actor_label,
        event.action,
        event_sentence(event),
        event.model_name,
        event.object_type,
        event.object_id,
        data,
        event.prev_hash,
        event.hash,
    )
    return [csv_safe(v) for v in values]


def audit_export_start(*, user, scope: Q | None, filters: AuditFilters, via: str) -> Iterator[str]:
    """Record the export (its own transaction, committed now) and return the CSV's lines,
    to be streamed: the header, then each matching event before the export's own."""
    with transaction.atomic():
        recorded = audit_record(
            actor=user,
            action="audit.exported",
            data={"format": "csv", "via": via, "filters": filters.as_dict()},
        )
    events = audit_events(scope=scope, filters=filters).filter(seq__lt=recorded.seq)
    return _lines(events)


def csv_response(lines: Iterator[str], *, stem: str = "audit") -> StreamingHttpResponse:
    """A download of streamed CSV lines (never cached, never sniffed as something else)."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _lines(events) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for event in iter_in_chunks(events):
        writer.writerow(_row(event))
        yield flush()
