"""What an audit PDF says, gathered from the database as plain data for the templates.

Every number a regulator needs to reproduce a decision is here: the frozen policy and its
sha256, each gate's value, interval, threshold and explanation, the comparison with
production frozen in the request, the approvals with what each approver saw (manifest
sha256), the evidence files' sha256 and the audit events with the chain's verification.
Tables are bounded (MAX_* below); what is left out is counted and named, never silently cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from governance.approvals.models import GateAcceptance, PostIncidentReview, PromotionRequest
from governance.audit.models import AuditEvent
from governance.audit.sentences import event_sentence
from governance.audit.services import audit_verify
from governance.core.canonical import canonical_json_sha256
from governance.evidence.documents import document_fields
from governance.evidence.markdown import render_markdown
from governance.evidence.models import Artifact, Document, DocumentKind
from governance.gates.models import GateRun
from governance.gates.stats.outcome import value_name
from governance.registry.models import ModelVersion, RegisteredModel
from governance.reports import charts
from governance.reports.images import ChartUnavailable, figure_svg_stored, svg_data_uri

MAX_AUDIT_ROWS = 250  # events listed in one report; the rest are counted, and the CSV has them
MAX_CHARTS = 12  # gate charts in one report (model and period reports chart the promoted requests first)
MAX_REQUESTS = 400  # promotion requests in one report's tables (every gate outcome's numbers)
MAX_DETAILED = 3  # requests told in full (policy, explanations, charts, decisions) in model/period reports

Progress = Callable[[float, str], None]


@dataclass
class Charting:
    """Renders gate charts until the budget is spent; counts what it left out."""

    budget: int = MAX_CHARTS
    rendered: int = 0  # charts in the report
    drawn: int = 0  # of which drawn now (the others came from the chart store)
    skipped: int = 0
    failures: list[str] = field(default_factory=list)

    def gate_chart(self, outcome: dict | None) -> str:
        fig = charts.gate_figure(outcome)
        if fig is None:
            return ""
        if self.rendered >= self.budget:
            self.skipped += 1
            return ""
        try:
            svg, drawn = figure_svg_stored(fig)
        except ChartUnavailable as exc:
            self.failures.append(str(exc))
            return ""
        self.rendered += 1
        self.drawn += int(drawn)
        return svg_data_uri(svg)


def person(user) -> str:
    if user is None:
        return "system"
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


# --- Blocks ----------------------------------------------------------------------------


def version_block(version: ModelVersion, *, with_documents: bool = True) -> dict:
    artifacts = list(
        Artifact.objects.filter(version=version).select_related("blob", "uploaded_by").order_by("kind", "pk")
    )
    block = {
        "version": version,
        "lineage": [
            ("Artifact URI", version.artifact_uri),
            ("Artifact sha256", version.artifact_sha256),
            ("Code hash", version.code_hash or "—"),
            ("Data snapshot", version.data_snapshot_id or "—"),
            ("Training config sha256", version.training_config_sha256 or "—"),
            ("Seed", "—" if version.seed is None else str(version.seed)),
            ("Framework", version.framework or "—"),
            ("Registered", f"{version.created_at:%Y-%m-%d %H:%M} UTC by {person(version.created_by)}"),
            ("Stage now", version.get_stage_display()),
        ],
        "evidence": [
            {
                "kind": a.get_kind_display(),
                "name": a.original_name,
                "sha256": a.blob_id,
                "size": a.blob.size,
                "rows": a.row_count,
                "uploaded": f"{a.created_at:%Y-%m-%d %H:%M} by {a.uploaded_by.get_username()}",
            }
            for a in artifacts
        ],
        "documents": [],
        "detailed": with_documents,
    }
    if with_documents:
        block["documents"] = documents_block(version)
    return block


def documents_block(version: ModelVersion) -> list[dict]:
    latest: dict[str, Document] = {}
    for doc in Document.objects.filter(version=version).select_related("author").order_by("kind", "revision"):
        latest[doc.kind] = doc
    out = []
    for kind, label in DocumentKind.choices:
        doc = latest.get(kind)
        if doc is None:
            out.append({"label": label, "missing": True})
            continue
        out.append(
            {
                "label": label,
                "missing": False,
                "revision": doc.revision,
                "author": person(doc.author),
                "created_at": doc.created_at,
                "sha256": canonical_json_sha256([doc.fields, doc.content]),
                "fields": [(spec.label, doc.fields.get(spec.name, "")) for spec in document_fields(kind)],
                "content_html": render_markdown(doc.content) if doc.content else "",
            }
        )
    return out


def policy_block(request: PromotionRequest) -> dict:
    thresholds = []
    for spec in request.required_gates or []:
        params = {k: v for k, v in spec.items() if k not in ("id", "type")}
        thresholds.append({"id": spec.get("id"), "type": spec.get("type"), "params": params})
    return {
        "name": request.policy_name or (request.policy_version.policy.name if request.policy_version else ""),
        "number": request.policy_version.number if request.policy_version else None,
        "sha256": request.policy_sha256,
        "snapshot": request.policy_snapshot,
        "gates": thresholds,
        "approvals": request.required_approvals or [],
        "sla_hours": request.sla_hours,
        "ticket_pattern": request.ticket_pattern,
        "exclude_from_approval": request.exclude_from_approval or [],
    }


def request_block(request: PromotionRequest, charting: Charting | None) -> dict:
    runs = list(GateRun.objects.filter(request=request).order_by("-round", "position"))
    current = [r for r in runs if r.round == request.gate_round]
    earlier = [r for r in runs if r.round != request.gate_round]
    decisions = list(request.decisions.select_related("user").order_by("created_at"))
    review = PostIncidentReview.objects.filter(request=request).select_related("submitted_by").first()
    return {
        "request": request,
        "title": f"Request #{request.pk}: {request.version.model.name} v{request.version.version} "
        f"{request.from_stage} → {request.to_stage}",
        "facts": [
            ("Model", request.version.model.name),
            ("Version", f"v{request.version.version}"),
            ("Move", f"{request.from_stage} → {request.to_stage}"),
            ("Change type", request.get_change_type_display()),
            ("Ticket", request.ticket_id or "—"),
            ("Requested", f"{request.requested_at:%Y-%m-%d %H:%M} UTC by {person(request.requested_by)}"),
            ("Justification", request.justification or "—"),
            ("Status", f"{request.get_status_display()} since {request.status_changed_at:%Y-%m-%d %H:%M} UTC"),
            ("Status reason", request.status_reason or "—"),
            ("Gate round", str(request.gate_round)),
        ],
        "gates": [_gate_row(run, charting) for run in current],
        "gate_summary": _gate_summary(current),
        "earlier_gates": [_gate_row(run, None) for run in earlier],
        "policy": policy_block(request),
        "comparison": request.comparison or {},
        "decisions": [
            {
                "user": person(d.user),
                "username": d.user.get_username(),
                "role": d.role.replace("_", " "),
                "decision": d.get_decision_display(),
                "created_at": d.created_at,
                "reason": d.reason,
                "ticket_id": d.ticket_id or "—",
                "risk_class": d.get_risk_class_display(),
                "round": d.round,
                "stale": d.round < request.gate_round,
                "manifest_sha256": d.manifest_sha256 or "—",
                "saw": _manifest_summary(d.manifest),
            }
            for d in decisions
        ],
        "gate_acceptances": _gate_acceptances(request),
        "emergency": _emergency(request, review),
    }


def _gate_acceptances(request: PromotionRequest) -> list[dict]:
    """Every acceptance of an inconclusive gate (a decision on that gate run), any round."""
    acceptances = GateAcceptance.objects.filter(request=request).select_related("user", "gate_run")
    return [
        {
            "user": person(a.user),
            "role": a.role.replace("_", " "),
            "gate_id": a.gate_id,
            "created_at": a.created_at,
            "reason": a.reason,
            "ticket_id": a.ticket_id or "—",
            "round": a.round,
            "void": a.round < request.gate_round,
            "needed": (((a.gate_run.outcome or {}).get("details") or {}).get("needed") or {}).get("text", ""),
            "outcome_sha256": canonical_json_sha256(a.gate_run.outcome) if a.gate_run.outcome else "",
        }
        for a in acceptances.order_by("created_at", "pk")
    ]


def _gate_summary(runs: list[GateRun]) -> str:
    if not runs:
        return "no gates"
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def _metric_label(outcome: dict) -> str | None:
    """'auc drop' where the value is the candidate's difference from its baseline."""
    metric, name = outcome.get("metric"), value_name(outcome)
    return f"{metric} {name}" if metric and name != "value" else metric


def _gate_row(run: GateRun, charting: Charting | None) -> dict:
    outcome = run.outcome or {}
    return {
        "gate_id": run.gate_id,
        "type": run.gate_type,
        "round": run.round,
        "status": run.status,
        "metric": _metric_label(outcome),
        "value": outcome.get("value"),
        "ci_low": outcome.get("ci_low"),
        "ci_high": outcome.get("ci_high"),
        "threshold": outcome.get("threshold"),
        "p_value": outcome.get("p_value"),
        "n": outcome.get("n"),
        "explanation": outcome.get("explanation", ""),
        "params": run.params,
        "computed_at": outcome.get("computed_at"),
        "outcome_sha256": canonical_json_sha256(outcome) if outcome else "",
        "chart": charting.gate_chart(outcome) if charting is not None and outcome else "",
    }


def _manifest_summary(manifest: dict) -> str:
    if not manifest:
        return "not recorded (decision predates manifests)"
    evidence = sum(len(v) for v in (manifest.get("evidence") or {}).values())
    documents = len(manifest.get("documents") or {})
    gates = manifest.get("gates") or {}
    passed = sum(1 for g in gates.values() if g.get("status") == "passed")
    return f"round {manifest.get('round')}: {evidence} evidence files, {documents} documents, {passed}/{len(gates)} gates passed"


def _emergency(request: PromotionRequest, review: PostIncidentReview | None) -> dict | None:
    if request.change_type != "emergency":
        return None
    return {
        "bypassed_gates": request.bypassed_gates or [],
        "bypass_expires_at": request.bypass_expires_at,
        "bypass_resolved_at": request.bypass_resolved_at,
        "reverted_at": request.reverted_at,
        "review": review,
        "review_submitted_by": person(review.submitted_by) if review and review.submitted_by else "",
    }


# --- The audit events in scope ---------------------------------------------------------


def audit_block(scope: Q) -> dict:
    """The events in scope (bounded) and the verification of the whole chain, with the head
    it verified up to."""
    events = AuditEvent.objects.filter(scope).order_by("seq")
    total = events.count()
    rows = list(events[:MAX_AUDIT_ROWS])
    verdict = audit_verify()
    return {
        "events": [_event_row(e) for e in rows],
        "total": total,
        "left_out": max(0, total - len(rows)),
        "verdict": verdict,
        "head_seq": verdict.head_seq or 0,
        "head_hash": verdict.head_hash,
    }


def _event_row(event: AuditEvent) -> dict:
    return {"seq": event.seq, "created_at": event.created_at, "sentence": event_sentence(event), "hash": event.hash}


def request_scope(request: PromotionRequest) -> Q:
    """The request's events and its gate outcomes' events (their hashes are in the chain)."""
    return Q(object_type="approvals.promotionrequest", object_id=str(request.pk)) | Q(
        action="gate.finished", data__request_id=request.pk
    )


def version_scope(version: ModelVersion) -> Q:
    request_ids = [str(pk) for pk in version.promotion_requests.values_list("pk", flat=True)]
    return Q(model_name=version.model.name) & (
        Q(object_type="registry.modelversion", object_id=str(version.pk))
        | Q(data__version=version.version)
        | Q(object_type="approvals.promotionrequest", object_id__in=request_ids)
        | Q(action="gate.finished", data__request_id__in=[int(i) for i in request_ids])
    )


def model_scope_q(model: RegisteredModel) -> Q:
    return Q(model_name=model.name)


def verify_steps(*, audit: dict, evidence_hashes: list[str], request_ids: list[int]) -> list[str]:
    steps = [
        f"Audit chain: run `manage.py verify_audit`; it must print OK. When this report was made the chain "
        f"head was event #{audit['head_seq']} with hash {audit['head_hash']}; an anchor file or email holding "
        "that pair proves later history was not rewritten (`manage.py verify_audit --anchor FILE`).",
        "Evidence: compute `sha256sum` of each evidence file you hold and compare it with the sha256 listed in "
        f"this report ({len(evidence_hashes)} files).",
    ]
    if request_ids:
        ids = ", ".join(str(i) for i in request_ids[:20]) + (" …" if len(request_ids) > 20 else "")
        steps.append(
            f"Gates: `manage.py replay_gates REQUEST_ID` recomputes every gate of a request from the stored "
            f"evidence and frozen policy and compares the outcomes (requests: {ids})."
        )
    steps.append(
        "This PDF: upload it at Reports → Verify a PDF (or POST it to /api/v1/reports/verify/); the product "
        "answers whether it produced this exact file, for what and when."
    )
    return steps


def summary_counts(blocks: list[dict]) -> dict[str, Any]:
    gates = [g for b in blocks for g in b["gates"]]
    return {
        "requests": len(blocks),
        "gates": len(gates),
        "gates_passed": sum(1 for g in gates if g["status"] == "passed"),
        "gates_failed": sum(1 for g in gates if g["status"] == "failed"),
        "gates_other": sum(1 for g in gates if g["status"] not in ("passed", "failed")),
        "decisions": sum(len(b["decisions"]) for b in blocks),
        "promoted": sum(1 for b in blocks if b["request"].status == "promoted"),
    }
