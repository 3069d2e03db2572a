"""The audit page's rows, with what each shows that costs template work built once per page.

Fifty events a page, each with its time three ways, up to two links and its recorded data:
as tags and filters that was about 1 ms an event (a locale lookup per `date`, a `reverse()`
per link). Here the links come from `inbox_rows.Links` (one `reverse()` per kind of link),
the times are formatted as `date` formats them, and the page reads ready strings. The HTML
is the one the tags and filters made (tests/web/test_audit_rows.py compares them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import dateformat, timezone

from governance.audit.models import AuditEvent
from governance.audit.sentences import event_sentence
from governance.web.inbox_rows import Links
from governance.web.templatetags.web_extras import json_pretty

REQUEST_OBJECT = "approvals.promotionrequest"


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    sentence: str
    created: str  # |date:"c"
    day: str  # |date:"Y-m-d"
    clock: str  # |date:"H:i:s T"
    model_url: str  # "" without a model
    request_url: str  # "" unless the event is about a promotion request
    data: str  # |json_pretty


def audit_rows(events: Iterable[AuditEvent]) -> list[AuditRow]:
    links = Links()
    rows = []
    for event in events:
        local = timezone.localtime(event.created_at)  # as the template shows it
        object_id = event.object_id or ""
        rows.append(
            AuditRow(
                event=event,
                sentence=event_sentence(event),
                created=local.isoformat(),
                day=f"{local.year:04d}-{local.month:02d}-{local.day:02d}",
                clock=f"{local.hour:02d}:{local.minute:02d}:{local.second:02d} {dateformat.DateFormat(local).T()}",
                model_url=links.model_url(event.model_name) if event.model_name else "",
                request_url=(
                    links.request_url(int(object_id))
                    if event.object_type == REQUEST_OBJECT and object_id.isascii() and object_id.isdigit()
                    else ""
                ),
                data=json_pretty(event.data),
            )
        )
    return rows
