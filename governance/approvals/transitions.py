"""State as data: which moves a version's stage and a request's status may make.

Pure tables and two assertions, tested without a database; the promotion service asserts
every change through them.
"""

from __future__ import annotations

from governance.approvals.models import RequestStatus
from governance.core.errors import DomainError
from governance.registry.models import Stage


class PromotionError(DomainError):
    """A refused change of a request or a version's stage. Nothing was written."""


STAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.DRAFT: frozenset({Stage.STAGING, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.PRODUCTION, Stage.ARCHIVED}),
    Stage.PRODUCTION: frozenset({Stage.DEPRECATED}),
    Stage.DEPRECATED: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset(),
}

_CLOSING = {RequestStatus.REJECTED, RequestStatus.CHANGES_REQUESTED, RequestStatus.CANCELLED, RequestStatus.EXPIRED}
REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    RequestStatus.AWAITING_GATES: frozenset({RequestStatus.AWAITING_APPROVALS, RequestStatus.GATES_FAILED} | _CLOSING),
    # Back to the gates when the evidence changes (a new round).
    RequestStatus.AWAITING_APPROVALS: frozenset({RequestStatus.PROMOTED, RequestStatus.AWAITING_GATES} | _CLOSING),
    # The requester resubmits (new evidence, a new round of gates), cancels, or it expires.
    RequestStatus.CHANGES_REQUESTED: frozenset(
        {RequestStatus.AWAITING_GATES, RequestStatus.CANCELLED, RequestStatus.EXPIRED}
    ),
}


def next_stages(stage: str) -> list[str]:
    """Where a version may go from `stage`, forward moves first and archiving last."""
    lifecycle = list(Stage.values)
    return sorted(STAGE_TRANSITIONS.get(stage, ()), key=lambda s: (s == Stage.ARCHIVED, lifecycle.index(s)))


def assert_stage_transition(src: str, dst: str) -> None:
    if dst not in STAGE_TRANSITIONS.get(src, frozenset()):
        allowed = ", ".join(sorted(STAGE_TRANSITIONS.get(src, ()))) or "none"
        raise PromotionError(
            f"A {src} version cannot move to {dst} (allowed from {src}: {allowed}).",
            field="to_stage",
            code="invalid_transition",
        )


def assert_request_transition(src: str, dst: str) -> None:
    if dst not in REQUEST_TRANSITIONS.get(src, frozenset()):
        raise PromotionError(
            f"This request is {src.replace('_', ' ')}; it cannot become {dst.replace('_', ' ')}.", code="invalid_state"
        )
