"""Build one report: gather its content by scope, render the HTML, let WeasyPrint lay it out.

Runs in a Celery worker (never in the web process). Tables are bounded (reports.content);
WeasyPrint writes a tagged PDF with its title, author, subject, keywords and creation date.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from governance.accounts.permissions import Action, model_scope
from governance.approvals.models import PromotionRequest
from governance.registry.models import ModelVersion, RegisteredModel
from governance.reports import content
from governance.reports.content import Charting, Progress
from governance.reports.models import Report, ReportScope


def build_pdf(report: Report, progress: Progress) -> tuple[bytes, int]:
    context = build_context(report, progress)
    progress(0.8, "laying out the PDF")
    html = render_to_string("reports/report.html", context)
    return render_pdf(html, context)


def render_pdf(html: str, context: dict) -> tuple[bytes, int]:
    import weasyprint

    # Charts are inline data: URIs; a report fetches nothing else (no file:// reads, no
    # network), whatever a document's Markdown links to.
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data"})
    document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher).render()
    pdf = document.write_pdf(pdf_tags=True)
    return pdf, len(document.pages)


def build_context(report: Report, progress: Progress) -> dict:
    charting = Charting()
    now = timezone.now()
    context: dict = {
        "report": report,
        "generated_at": now,
        "generated_by": content.person(report.requested_by),
        "product_version": settings.PRODUCT_VERSION,
        "site_url": settings.SITE_URL,
        "charting": charting,
    }
    builder = {
        ReportScope.REQUEST: _request_context,
        ReportScope.VERSION: _version_context,
        ReportScope.MODEL: _model_context,
        ReportScope.PERIOD: _period_context,
    }[ReportScope(report.scope)]
    context |= builder(report, charting, progress)
    blocks = context.get("requests", [])
    evidence = [e["sha256"] for v in context.get("versions", []) for e in v["evidence"]]
    context["summary"] = content.summary_counts(blocks)
    context["verify_steps"] = content.verify_steps(
        audit=context["audit"], evidence_hashes=evidence, request_ids=[b["request"].pk for b in blocks]
    )
    context["policies"] = _policies(blocks)
    context["overview"] = report.scope in (ReportScope.MODEL, ReportScope.PERIOD)
    context["detailed_count"] = sum(1 for b in blocks if b.get("detailed"))
    context["chart_note"] = _chart_note(charting)
    context["keywords"] = ", ".join(
        ["model governance", "audit report", report.get_scope_display()] + ([report.model.name] if report.model else [])
    )
    return context


def _policies(blocks: list[dict]) -> list[dict]:
    """Each distinct frozen policy once, with the requests that froze it (the appendix)."""
    seen: dict[str, dict] = {}
    for block in blocks:
        policy = block["policy"]
        if not policy["sha256"]:
            continue
        entry = seen.setdefault(policy["sha256"], {**policy, "requests": []})
        entry["requests"].append(block["request"].pk)
    return list(seen.values())


def _chart_note(charting: Charting) -> str:
    notes = []
    if charting.skipped:
        notes.append(
            f"{charting.skipped} gate charts are not drawn here (at most {charting.budget} per report); "
            "each request's own report draws all of its charts."
        )
    if charting.failures:
        notes.append(f"{len(charting.failures)} charts could not be rendered: {charting.failures[0]}")
    return " ".join(notes)


def _requests(qs, charting: Charting, progress: Progress, start: float, end: float, *, detail_all: bool) -> list[dict]:
    """Request blocks in time order. Every request's numbers go into the report's tables;
    model and period reports tell in full (and chart) only the requests that moved a version
    into production, newest first, up to MAX_DETAILED; each request's own report has the rest."""
    rows = list(
        qs.select_related("version__model", "requested_by", "policy_version__policy").order_by("requested_at")[
            : content.MAX_REQUESTS
        ]
    )
    if detail_all:
        detailed = {r.pk for r in rows}
    else:
        promoted = [r for r in rows if r.status == "promoted" and r.to_stage == "production"]
        detailed = {r.pk for r in sorted(promoted, key=lambda r: r.requested_at, reverse=True)[: content.MAX_DETAILED]}
    blocks = []
    for i, request in enumerate(rows):
        progress(start + (end - start) * i / max(1, len(rows)), f"request #{request.pk}")
        block = content.request_block(request, charting if request.pk in detailed else None)
        block["detailed"] = request.pk in detailed
        blocks.append(block)
    return blocks


def _request_context(report: Report, charting: Charting, progress: Progress) -> dict:
    request = report.request
    progress(0.1, "gates and approvals")
    block = content.request_block(request, charting)
    block["detailed"] = True
    progress(0.5, "evidence and documents")
    version = content.version_block(request.version)
    progress(0.6, "audit trail")
    audit = content.audit_block(content.request_scope(request) | content.version_scope(request.version))
    return {
        "scope_lines": [("Promotion request", f"#{request.pk}"), ("Model", request.version.model.name)],
        "model": request.version.model,
        "requests": [block],
        "versions": [version],
        "audit": audit,
        "requests_total": 1,
    }


def _version_context(report: Report, charting: Charting, progress: Progress) -> dict:
    version = report.version
    progress(0.1, "gates and approvals")
    requests = _requests(
        PromotionRequest.objects.filter(version=version), charting, progress, 0.1, 0.5, detail_all=True
    )
    progress(0.5, "evidence and documents")
    block = content.version_block(version)
    progress(0.6, "audit trail")
    audit = content.audit_block(content.version_scope(version))
    return {
        "scope_lines": [("Model", version.model.name), ("Version", f"v{version.version}")],
        "model": version.model,
        "requests": requests,
        "versions": [block],
        "audit": audit,
        "requests_total": len(requests),
    }


def _model_context(report: Report, charting: Charting, progress: Progress) -> dict:
    model = report.model
    progress(0.05, "production history")
    history = _history(model)
    qs = PromotionRequest.objects.filter(version__model=model)
    total = qs.count()
    requests = _requests(qs, charting, progress, 0.1, 0.55, detail_all=False)
    # Told in full: the versions of the requests told in full (the latest to reach production).
    told = {b["request"].version_id for b in requests if b["detailed"]}
    versions = []
    all_versions = list(ModelVersion.objects.filter(model=model).select_related("created_by").order_by("version"))
    for i, version in enumerate(all_versions):
        progress(0.55 + 0.15 * i / max(1, len(all_versions)), f"version v{version.version}")
        # Documents of the versions told in full; every version's lineage and evidence hashes.
        versions.append(content.version_block(version, with_documents=version.pk in told))
    progress(0.7, "audit trail")
    audit = content.audit_block(content.model_scope_q(model))
    return {
        "scope_lines": [("Model", model.name), ("Team", model.team.name), ("Risk tier", model.get_risk_tier_display())],
        "model": model,
        "history": history,
        "requests": requests,
        "versions": versions,
        "audit": audit,
        "requests_total": total,
    }


def _history(model) -> dict:
    """The production history section (approvals.history), with the page's timeline chart."""
    from governance.approvals.history import production_tenures
    from governance.reports import charts
    from governance.reports.images import ChartUnavailable, figure_svg, svg_data_uri

    tenures = production_tenures(model)
    chart = ""
    fig = charts.production_timeline_figure(tenures, now=timezone.now())
    if fig is not None:
        try:
            chart = svg_data_uri(figure_svg(fig))  # drawn to "now": never the same twice, not stored
        except ChartUnavailable:
            chart = ""
    return {"tenures": tenures, "chart": chart}


def _period_context(report: Report, charting: Charting, progress: Progress) -> dict:
    qs = PromotionRequest.objects.filter(requested_at__gte=report.since, requested_at__lt=report.until)
    scope = Q(created_at__gte=report.since, created_at__lt=report.until)
    if report.team_id:
        qs = qs.filter(version__model__team_id=report.team_id)
    exportable = model_scope(report.requested_by, Action.EXPORT)
    if exportable is not None:
        allowed = RegisteredModel.objects.filter(exportable)
        qs = qs.filter(version__model__in=allowed)
        scope &= Q(model_name__in=allowed.values("name"))
    elif report.team_id:
        scope &= Q(model_name__in=RegisteredModel.objects.filter(team_id=report.team_id).values("name"))
    total = qs.count()
    requests = _requests(qs, charting, progress, 0.05, 0.6, detail_all=False)
    versions = {}
    for block in requests:
        v = block["request"].version
        if v.pk not in versions:
            versions[v.pk] = content.version_block(v, with_documents=False)
    progress(0.65, "audit trail")
    audit = content.audit_block(scope)
    lines = [("From", f"{report.since:%Y-%m-%d %H:%M} UTC"), ("Until", f"{report.until:%Y-%m-%d %H:%M} UTC")]
    if report.team_id:
        lines.append(("Team", report.team.name))
    return {
        "scope_lines": lines,
        "model": None,
        "requests": requests,
        "versions": list(versions.values()),
        "audit": audit,
        "requests_total": total,
    }
