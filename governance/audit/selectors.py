"""Reading the audit trail: one filter set for the audit page and the API.

Who may read which events is `accounts.permissions.audit_scope(user)`; callers pass it in
(the audit trail sits below accounts: every package writes to it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from governance.audit.models import AuditEvent
from governance.core.errors import DomainError

MAX_FILTER_CHARS = 200


@dataclass(frozen=True)
class AuditFilters:
    model: str = ""  # exact model name
    action: str = ""  # prefix: "promotion." or "promotion.approved"
    actor: str = ""  # exact user name at the time ("system" for the workers)
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> AuditFilters:
        """Parse query-string filters; a bad value is a DomainError naming its field."""
        values = {}
        for name in ("model", "action", "actor"):
            value = (params.get(name) or "").strip()
            if len(value) > MAX_FILTER_CHARS or "\x00" in value:
                raise DomainError(f"{name}: at most {MAX_FILTER_CHARS} characters, no NUL.", field=name)
            values[name] = value
        for name in ("since", "until"):
            values[name] = _moment(name, params.get(name) or "")
        if values["since"] and values["until"] and values["since"] > values["until"]:
            raise DomainError("since is after until.", field="since")
        return cls(**values)

    @property
    def active(self) -> bool:
        return any((self.model, self.action, self.actor, self.since, self.until))


def _moment(name: str, raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            moment = datetime(day.year, day.month, day.day) if day else None
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30
        moment = None
    if moment is None:
        raise DomainError(f"{name}: expected an ISO 8601 date or date-time, e.g. 2026-03-01T09:00:00Z.", field=name)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def audit_events(*, scope: Q | None, filters: AuditFilters = AuditFilters()) -> QuerySet[AuditEvent]:
    """Events within `scope` (from accounts.permissions.audit_scope) that match the filters,
    in chain order."""
    qs = AuditEvent.objects.all() if scope is None else AuditEvent.objects.filter(scope)
    if filters.model:
        qs = qs.filter(model_name=filters.model)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.actor:
        qs = qs.filter(actor_label=filters.actor)
    if filters.since:
        qs = qs.filter(created_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(created_at__lt=filters.until)
    return qs.order_by("seq")
