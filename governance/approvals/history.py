"""Production history (time travel): which version of a model served, since and until when,
through which request and change type, approved by whom, on which evidence and policy.

Built from recorded facts, never from the versions' current stages: the audit trail's
`version.stage_changed` events into and out of production (and `version.rolled_back` for a
roll back's who and why), the promotion requests they name, the decisions on those
requests, and the evidence files uploaded before the promotion. The history page, the API
(`GET /api/v1/models/{name}/history/?at=`, DESIGN.md contract) and the model PDF read this.

A tenure of a roll back (by a person, or automatic when an emergency's bypass expired
unresolved) names the request that first put the restored version in production: its
approvals, evidence and policy are what that version was vetted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from governance.approvals.models import Decision, DecisionKind, PromotionRequest
from governance.audit.models import AuditEvent
from governance.audit.selectors import parse_moment
from governance.evidence.models import Artifact
from governance.registry.models import RegisteredModel, Stage

ROLLBACK = "rollback"  # the change type of a tenure that a roll back or an emergency revert began


@dataclass
class Tenure:
    """One stretch of a version in production: [since, until), until None while it serves."""

    version: int
    version_id: int
    since: datetime
    until: datetime | None
    change_type: str  # standard | emergency | experiment | rollback
    request_id: int | None  # the request that put (or first put) this version in production
    moved_by: str  # who made the move ("system" for beat and workers)
    note: str = ""  # a roll back's reason and ticket, an emergency revert's request
    approvals: list[dict] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)
    policy: dict | None = None
    request_change_type: str = ""  # the change type of that request itself

    def serves_at(self, at: datetime) -> bool:
        return self.since <= at and (self.until is None or at < self.until)


def production_tenures(model: RegisteredModel) -> list[Tenure]:
    """Every production tenure of `model`, oldest first (a few queries, whatever the count)."""
    events = list(
        AuditEvent.objects.filter(model_name=model.name)
        .filter(
            Q(action="version.stage_changed", data__to=Stage.PRODUCTION)
            | Q(action="version.stage_changed", data__from=Stage.PRODUCTION)
            | Q(action="version.rolled_back")
        )
        .select_related("actor")
        .order_by("seq")
    )
    tenures: list[Tenure] = []
    open_by_version: dict[int, Tenure] = {}
    first_request: dict[int, int] = {}  # version id -> the request that first promoted it
    for index, event in enumerate(events):
        if event.action != "version.stage_changed" or not event.object_id.isdigit():
            continue
        data = event.data if isinstance(event.data, dict) else {}
        version_id = int(event.object_id)
        if data.get("from") == Stage.PRODUCTION and version_id in open_by_version:
            open_by_version.pop(version_id).until = event.created_at
        if data.get("to") != Stage.PRODUCTION:
            continue
        request_id = data.get("request") if isinstance(data.get("request"), int) else None
        if data.get("rollback"):
            why = _rollback_event(events, index)
            change, note, moved_by = ROLLBACK, _rollback_note(why), why.actor_label if why else event.actor_label
            request_id = first_request.get(version_id)
        elif data.get("emergency_expired"):
            change = ROLLBACK
            note = f"The bypass of emergency request #{request_id} expired unresolved; reverted automatically."
            moved_by, request_id = event.actor_label, first_request.get(version_id)
        else:
            change, note, moved_by = "", "", event.actor_label
            if request_id is not None:
                first_request.setdefault(version_id, request_id)
        tenure = Tenure(
            version=_int(data.get("version")),
            version_id=version_id,
            since=event.created_at,
            until=None,
            change_type=change,
            request_id=request_id,
            moved_by=moved_by,
            note=note,
        )
        tenures.append(tenure)
        open_by_version[version_id] = tenure
    _attach_requests(tenures)
    return tenures


def _int(value) -> int:
    return value if isinstance(value, int) else int(value) if str(value).isdigit() else 0


def _rollback_event(events: list[AuditEvent], index: int) -> AuditEvent | None:
    """The `version.rolled_back` event written in the same transaction, just after."""
    for later in events[index + 1 : index + 4]:
        if later.action == "version.rolled_back":
            return later
    return None


def _rollback_note(event: AuditEvent | None) -> str:
    if event is None:
        return "Rolled back."
    data = event.data if isinstance(event.data, dict) else {}
    note = f"Rolled back from v{data.get('from_version', '?')}"
    if data.get("reason"):
        note += f": {data['reason']}"
    if data.get("ticket_id"):
        note += f" ({data['ticket_id']})"
    return note


def _attach_requests(tenures: list[Tenure]) -> None:
    """Each tenure's request facts: change type, approvals of its final round, the evidence
    the version had when that request moved it, the request's frozen policy."""
    ids = {t.request_id for t in tenures if t.request_id is not None}
    if not ids:
        for tenure in tenures:
            tenure.change_type = tenure.change_type or "standard"
        return
    requests = {r.pk: r for r in PromotionRequest.objects.filter(pk__in=ids)}
    approvals: dict[int, list[Decision]] = {}
    for decision in (
        Decision.objects.filter(request_id__in=ids, decision=DecisionKind.APPROVE)
        .select_related("user")
        .order_by("created_at", "pk")
    ):
        approvals.setdefault(decision.request_id, []).append(decision)
    promoted_at = {t.request_id: t.since for t in tenures if t.change_type == "" and t.request_id is not None}
    version_ids = {r.version_id for r in requests.values()}
    artifacts = list(
        Artifact.objects.filter(version_id__in=version_ids)
        .order_by("kind", "created_at", "pk")
        .values("version_id", "kind", "blob_id", "created_at")
    )
    for tenure in tenures:
        request = requests.get(tenure.request_id)
        if request is None:
            tenure.change_type = tenure.change_type or "standard"
            continue
        tenure.request_change_type = request.change_type
        tenure.change_type = tenure.change_type or request.change_type
        decided = approvals.get(request.pk, [])
        final_round = max((d.round for d in decided), default=None)
        tenure.approvals = [
            {
                "user": d.user.get_username(),
                "role": d.role,
                "decided_at": d.created_at.isoformat(),
                "reason": d.reason,
                "ticket_id": d.ticket_id,
            }
            for d in decided
            if d.round == final_round
        ]
        moment = promoted_at.get(request.pk, request.status_changed_at)
        tenure.evidence = [
            {"kind": a["kind"], "sha256": a["blob_id"]}
            for a in artifacts
            if a["version_id"] == request.version_id and a["created_at"] <= moment
        ]
        tenure.policy = (
            {"name": request.policy_name, "sha256": request.policy_sha256} if request.policy_sha256 else None
        )


def served_at(model: RegisteredModel, at: datetime | None = None, tenures: list[Tenure] | None = None) -> dict:
    """Who served at `at` (default now), as the DESIGN.md history contract: {model, at,
    version, since, until, request_id, change_type, approvals[], evidence[], policy}.
    Before the first promotion (or while nothing is in production) version is null, and
    since/until bound the gap."""
    at = at or timezone.now()
    tenures = production_tenures(model) if tenures is None else tenures
    current = next((t for t in reversed(tenures) if t.serves_at(at)), None)
    answer = {"model": model.name, "at": at.isoformat()}
    if current is None:
        before = [t.until for t in tenures if t.until is not None and t.until <= at]
        after = [t.since for t in tenures if t.since > at]
        return answer | {
            "version": None,
            "since": max(before).isoformat() if before else None,
            "until": min(after).isoformat() if after else None,
            "request_id": None,
            "change_type": None,
            "approvals": [],
            "evidence": [],
            "policy": None,
        }
    return answer | {
        "version": current.version,
        "since": current.since.isoformat(),
        "until": current.until.isoformat() if current.until else None,
        "request_id": current.request_id,
        "change_type": current.change_type,
        "approvals": current.approvals,
        "evidence": current.evidence,
        "policy": current.policy,
    }


def parse_at(raw: str | None) -> datetime:
    """The `at` of a history query: ISO 8601, default now; a bad value names `at`."""
    return parse_moment("at", raw or "") or timezone.now()
