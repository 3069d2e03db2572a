"""Reading the audit trail: one filter set for the audit page, its CSV and the API.

Who may read which events is `accounts.permissions.audit_scope(user)`; callers pass it in
(the audit trail sits below accounts: every package writes to it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from governance.audit.models import AuditEvent
from governance.core.errors import DomainError
from governance.core.inputs import query_text

MAX_FILTER_CHARS = 200
MAX_MOMENT_CHARS = 64
MAX_VERSION = 2**31 - 1
REQUEST_OBJECT = "approvals.promotionrequest"  # AuditEvent.object_type of a promotion request


@dataclass(frozen=True)
class AuditFilters:
    model: str = ""  # exact model name
    version: int | None = None  # a version number of `model`
    action: str = ""  # prefix: "promotion." or "promotion.approved"
    actor: str = ""  # exact user name at the time ("system" for the workers)
    since: datetime | None = None
    until: datetime | None = None  # exclusive; a date alone means the end of that day

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> AuditFilters:
        """Parse query-string filters; a bad value is a DomainError naming its field."""
        values: dict = {}
        for name in ("model", "action", "actor"):
            values[name] = query_text(params, name, max_chars=MAX_FILTER_CHARS)
        values["version"] = _version_number(params.get("version") or "")
        if values["version"] is not None and not values["model"]:
            raise DomainError("version: choose the model the version number belongs to.", field="version")
        values["since"] = parse_moment("since", params.get("since") or "")
        values["until"] = parse_moment("until", params.get("until") or "", end_of_day=True)
        if values["since"] and values["until"] and values["since"] >= values["until"]:
            raise DomainError("since: must be before until.", field="since")
        return cls(**values)

    @property
    def active(self) -> bool:
        return any((self.model, self.version is not None, self.action, self.actor, self.since, self.until))

    def as_dict(self) -> dict:
        """The filters that are set, as JSON-able values (the export's audit event)."""
        values = {
            "model": self.model,
            "version": self.version,
            "action": self.action,
            "actor": self.actor,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def _version_number(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    number = raw[1:] if raw[:1] in ("v", "V") else raw
    if not (number.isascii() and number.isdigit() and len(number) <= 10 and 1 <= int(number) <= MAX_VERSION):
        raise DomainError("version: a version number, e.g. 3.", field="version")
    return int(number)


def parse_moment(name: str, raw: str, *, end_of_day: bool = False) -> datetime | None:
    """An ISO 8601 date or date-time from a query string, aware (naive means TIME_ZONE).

    A date alone is the start of that day, or with `end_of_day` the start of the next (an
    exclusive upper bound that includes the whole day). A bad, impossible or huge value is a
    DomainError naming `name`."""
    raw = (raw or "").strip()
    if not raw:
        return None
    moment = None
    if len(raw) <= MAX_MOMENT_CHARS and "\x00" not in raw:
        try:
            day = parse_date(raw) if len(raw) == 10 else None  # YYYY-MM-DD (parse_datetime takes it too)
            if day is not None:
                moment = datetime(day.year, day.month, day.day)
                if end_of_day:
                    moment += timedelta(days=1)
            else:
                moment = parse_datetime(raw)
        except (ValueError, OverflowError):  # well-formed but impossible, e.g. 2026-02-30
            moment = None
    if moment is None:
        raise DomainError(f"{name}: expected an ISO 8601 date or date-time, e.g. 2026-03-01T09:00:00Z.", field=name)
    try:
        moment = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        moment.astimezone(UTC)  # representable in UTC (and in the database)
    except (ValueError, OverflowError):
        raise DomainError(f"{name}: out of range.", field=name) from None
    return moment


def _version_q(model: str, number: int) -> Q:
    """Events about version `number` of `model`: those naming it in their data, and those
    on its promotion requests (found by their `promotion.requested` event: the trail alone)."""
    requests = AuditEvent.objects.filter(model_name=model, action="promotion.requested", data__version=number)
    return (
        Q(data__version=number)
        | Q(data__from_version=number)
        | Q(data__to_version=number)
        | Q(object_type=REQUEST_OBJECT, object_id__in=requests.values("object_id"))
    )


def audit_events(*, scope: Q | None, filters: AuditFilters = AuditFilters()) -> QuerySet[AuditEvent]:
    """Events within `scope` (from accounts.permissions.audit_scope) that match the filters,
    in chain order, with their actor loaded (for the sentences)."""
    qs = AuditEvent.objects.all() if scope is None else AuditEvent.objects.filter(scope)
    if filters.model:
        qs = qs.filter(model_name=filters.model)
        if filters.version is not None:
            qs = qs.filter(_version_q(filters.model, filters.version))
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.actor:
        qs = qs.filter(actor_label=filters.actor)
    if filters.since:
        qs = qs.filter(created_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(created_at__lt=filters.until)
    return qs.select_related("actor").order_by("seq")


def iter_in_chunks(events: QuerySet[AuditEvent], chunk: int = 1000) -> Iterator[AuditEvent]:
    """Every event of `events` (ordered by seq) in keyset pages of `chunk`: bounded memory
    and no cursor held open while a slow client reads a streamed export."""
    last = 0
    while True:
        page = list(events.filter(seq__gt=last)[:chunk])
        yield from page
        if len(page) < chunk:
            return
        last = page[-1].seq
