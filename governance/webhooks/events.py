"""Which audit events a webhook tells of, whose team they concern, and the JSON sent.

Every state change writes its audit event in its own transaction, so
the audit trail is the one place that sees them all; receivers.py listens to it. An event's
payload is built from the audit event and the rows it names as they stand right after the
change commits (docs/webhooks.md shows each type).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from governance.approvals.models import DecisionKind, PromotionRequest
from governance.audit.models import AuditEvent
from governance.registry.models import ModelVersion, RegisteredModel
from governance.reports.models import Report

# Event type → what a person picks on the form.
EVENT_TYPES: dict[str, str] = {
    "request.created": "Promotion request created",
    "gates.finished": "Gates finished (passed or failed)",
    "decision.made": "Decision made (approved, rejected, changes requested)",
    "version.promoted": "Version promoted",
    "version.rolled_back": "Production rolled back",
    "report.ready": "Audit report ready",
}

# Audit action → event type. Anything else is not sent.
ACTION_EVENTS: dict[str, str] = {
    "promotion.requested": "request.created",
    "promotion.gates_passed": "gates.finished",
    "promotion.gates_failed": "gates.finished",
    "promotion.approved": "decision.made",
    "promotion.rejected": "decision.made",
    "promotion.changes_requested": "decision.made",
    "promotion.promoted": "version.promoted",
    "version.rolled_back": "version.rolled_back",
    "report.generated": "report.ready",
}

DECISION_OF_ACTION = {
    "promotion.approved": DecisionKind.APPROVE,
    "promotion.rejected": DecisionKind.REJECT,
    "promotion.changes_requested": DecisionKind.REQUEST_CHANGES,
}

TEST_EVENT = "webhook.test"  # sent by hand from the page or the API ("Send a test event")


def event_id_of(event: AuditEvent) -> str:
    """Stable for one audit event (retries and redeliveries keep it): receivers dedupe on it."""
    return f"evt_{event.hash[:32]}"


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@dataclass(frozen=True)
class Subject:
    team_id: int | None
    payload: dict


def _request_facts(request: PromotionRequest) -> dict:
    return {
        "id": request.pk,
        "model": request.version.model.name,
        "version": request.version.version,
        "from_stage": request.from_stage,
        "to_stage": request.to_stage,
        "change_type": request.change_type,
        "status": request.status,
        "ticket_id": request.ticket_id,
        "url": _absolute(reverse("web:request_detail", args=[request.pk])),
    }


def _gate_facts(request: PromotionRequest) -> list[dict]:
    runs = request.gate_runs.filter(round=request.gate_round).order_by("position", "pk")
    out = []
    for run in runs:
        outcome = run.outcome or {}
        out.append(
            {
                "gate_id": run.gate_id,
                "type": run.gate_type,
                "status": run.status,
                "value": outcome.get("value"),
                "threshold": outcome.get("threshold"),
            }
        )
    return out


def _report_team(report: Report) -> int | None:
    if report.team_id:
        return report.team_id
    if report.model_id:
        return report.model.team_id
    if report.version_id:
        return report.version.model.team_id
    if report.request_id:
        return report.request.version.model.team_id
    return None


def subject_of(event: AuditEvent) -> Subject | None:
    """The team an event concerns and its payload's `data`, or None when nobody is told."""
    action = event.action
    data: dict
    if action in ("promotion.requested", "promotion.gates_passed", "promotion.gates_failed", "promotion.promoted") or (
        action in DECISION_OF_ACTION
    ):
        request = PromotionRequest.objects.select_related("version__model").filter(pk=_int(event.object_id)).first()
        if request is None:
            return None
        data = {"request": _request_facts(request)}
        if action.startswith("promotion.gates_"):
            data["outcome"] = "passed" if action == "promotion.gates_passed" else "failed"
            data["gates"] = _gate_facts(request)
        if action in DECISION_OF_ACTION:
            data["decision"] = {
                "decision": str(DECISION_OF_ACTION[action]),
                "by": event.actor_label,
                "role": event.data.get("role"),
                "reason": event.data.get("reason"),
                "ticket_id": event.data.get("ticket_id"),
                "risk_class": event.data.get("risk_class"),
            }
        return Subject(request.version.model.team_id, data)
    if action == "version.rolled_back":
        model = RegisteredModel.objects.filter(name=event.model_name).first()
        version = ModelVersion.objects.filter(pk=_int(event.object_id)).first()
        if model is None:
            return None
        data = {
            "model": model.name,
            "from_version": event.data.get("from_version"),
            "to_version": event.data.get("to_version", version.version if version else None),
            "reason": event.data.get("reason"),
            "ticket_id": event.data.get("ticket_id"),
            "url": _absolute(reverse("web:model_detail", args=[model.name])),
        }
        return Subject(model.team_id, data)
    if action == "report.generated":
        report = (
            Report.objects.select_related("model", "version__model", "request__version__model")
            .filter(pk=_int(event.object_id))
            .first()
        )
        if report is None:
            return None
        data = {
            "report": {
                "id": report.pk,
                "scope": report.scope,
                "title": report.title,
                "sha256": report.sha256,
                "pages": report.pages,
                "url": _absolute(reverse("web:report_detail", args=[report.pk])),
            }
        }
        return Subject(_report_team(report), data)
    return None


def _int(value: str) -> int:
    return int(value) if str(value).isdigit() else 0


def event_payload(
    *, event_id: str, event_type: str, created_at, team: str, actor: str, action: str, data: dict
) -> dict:
    """The JSON every delivery sends (docs/webhooks.md, "Payload")."""
    return {
        "id": event_id,
        "type": event_type,
        "created_at": created_at.isoformat(),
        "team": team,
        "actor": actor,
        "action": action,
        "data": data,
    }
