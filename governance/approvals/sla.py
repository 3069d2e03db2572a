"""When a request's approvals are due, and how late they are. Pure: no queries, no clock.

A request freezes `sla_hours` from its policy's transition block. The clock starts when the
gates pass (the request enters `awaiting_approvals`, `status_changed_at`), so approvals are
due `sla_hours` later. A request without an SLA, still waiting for its gates, or closed has
no due date and is never overdue. Callers pass `now` (views and tasks take it once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

AWAITING_APPROVALS = "awaiting_approvals"


class HasSla(Protocol):
    status: str
    status_changed_at: datetime
    sla_hours: int | None


@dataclass(frozen=True)
class SlaState:
    due_at: datetime
    overdue: bool
    text: str  # "due in 5 h", "overdue by 2 d"


def due_at(request: HasSla) -> datetime | None:
    """When the approvals of `request` are due; None when no SLA clock runs."""
    if request.status != AWAITING_APPROVALS or not request.sla_hours or request.status_changed_at is None:
        return None
    return request.status_changed_at + timedelta(hours=request.sla_hours)


def is_overdue(request: HasSla, now: datetime) -> bool:
    due = due_at(request)
    return due is not None and now >= due


def duration_text(delta: timedelta) -> str:
    """A rough, readable length of time: "40 min", "5 h", "2 d" (rounded down)."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def sla_text(request: HasSla, now: datetime) -> str:
    """ "due in 5 h" or "overdue by 2 d"; empty when no SLA clock runs."""
    due = due_at(request)
    if due is None:
        return ""
    if now >= due:
        return f"overdue by {duration_text(now - due)}"
    return f"due in {duration_text(due - now)}"


def sla_state(request: HasSla, now: datetime) -> SlaState | None:
    """Due date, overdue flag and text together (what a row or a page header shows)."""
    due = due_at(request)
    if due is None:
        return None
    return SlaState(due_at=due, overdue=now >= due, text=sla_text(request, now))
