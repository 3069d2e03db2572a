"""The door for audit PDFs: ask for one, build it (a Celery task), wait briefly, verify one.

`report_start` checks the right to export, records what the report covers and queues the
build after commit. Request and version reports are answered directly by the web process
when the worker finishes within REPORT_SYNC_WAIT_SECONDS (`report_wait`); otherwise, and
always for model and period reports, the page and the API show progress and the requester
gets an email with the link. The worker renders the PDF (`reports.render`), keeps the file,
and records its sha256 as an audit event, so `report_verify` can tell a PDF we produced
from one we did not.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from governance.accounts.models import Team
from governance.accounts.permissions import Action, is_admin, model_scope, require
from governance.approvals.models import PromotionRequest
from governance.audit.services import audit_record
from governance.core.errors import DomainError
from governance.core.waiting import wait_finished
from governance.registry.models import ModelVersion, RegisteredModel
from governance.reports.models import Report, ReportScope, ReportStatus

log = logging.getLogger(__name__)

MAX_PERIOD_DAYS = 366
MAX_VERIFY_BYTES = 200 * 1024 * 1024


class ReportError(DomainError):
    pass


# --- Asking for a report ---------------------------------------------------------------


def report_start(
    *,
    user,
    scope: str,
    request: PromotionRequest | None = None,
    version: ModelVersion | None = None,
    model: RegisteredModel | None = None,
    team: Team | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Report:
    """Check the right to export, record the report, queue its build after commit."""
    fields: dict = {"scope": scope, "requested_by": user}
    if scope == ReportScope.REQUEST:
        model = request.version.model
        require(user, Action.EXPORT, model)
        v = request.version
        fields |= {"request": request, "version": v, "model": model}
        fields["title"] = (
            f"Promotion request #{request.pk}: {model.name} v{v.version} {request.from_stage} → {request.to_stage}"
        )
    elif scope == ReportScope.VERSION:
        model = version.model
        require(user, Action.EXPORT, model)
        fields |= {"version": version, "model": model, "title": f"{model.name} v{version.version}"}
    elif scope == ReportScope.MODEL:
        require(user, Action.EXPORT, model)
        fields |= {"model": model, "title": f"{model.name}: the model's history", "notify_when_done": True}
    elif scope == ReportScope.PERIOD:
        since, until = _period(since, until)
        if team is not None and not (is_admin(user) or _exports_on_team(user, team)):
            raise PermissionDenied(f"You may not export reports of team {team.name}.")
        label = f"{since:%Y-%m-%d} to {until:%Y-%m-%d}" + (f", team {team.name}" if team else "")
        fields |= {"team": team, "since": since, "until": until, "notify_when_done": True}
        fields["title"] = f"Promotions {label}"
    else:
        raise ReportError(f"scope: one of {', '.join(ReportScope.values)}.", field="scope")
    with transaction.atomic():
        report = Report.objects.create(**fields)
        audit_record(
            actor=user,
            action="report.requested",
            obj=report,
            model_name=model.name if model else "",
            data={"scope": scope, "title": report.title},
        )
        transaction.on_commit(lambda: _dispatch(report.pk))
    return report


def _period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    if since is None:
        raise ReportError("since: required for a period report.", field="since")
    until = until or timezone.now()
    if since >= until:
        raise ReportError("since: must be before until.", field="since")
    if until - since > timedelta(days=MAX_PERIOD_DAYS):
        raise ReportError(f"until: a period report covers at most {MAX_PERIOD_DAYS} days.", field="until")
    return since, until


def _exports_on_team(user, team: Team) -> bool:
    scope = model_scope(user, Action.EXPORT)
    return scope is None or RegisteredModel.objects.filter(scope, team=team).exists()


def _dispatch(report_id: int) -> None:
    from governance.reports.tasks import report_build_task

    try:
        report_build_task.delay(report_id)
    except Exception:  # broker down: the sweeper re-sends queued reports
        log.exception("could not queue report %s; the sweeper will retry", report_id)


def report_wait(report: Report, timeout: float | None = None) -> Report:
    """Poll until the report is finished or `timeout` seconds pass; the row as it is then."""
    return wait_finished(report, settings.REPORT_SYNC_WAIT_SECONDS if timeout is None else timeout)


def report_notify_later(report: Report) -> None:
    """The web process stopped waiting: email the requester the link when it is ready."""
    Report.objects.filter(pk=report.pk, notified_at__isnull=True).update(notify_when_done=True)
    report.refresh_from_db()
    if report.status == ReportStatus.DONE:
        report_email(report)  # finished in the meantime


# --- Who sees which report -------------------------------------------------------------


def reports_visible_to(user) -> QuerySet[Report]:
    """Reports the user asked for, and reports of models they may export (admins: all)."""
    qs = Report.objects.select_related("model", "team", "requested_by")
    if is_admin(user):
        return qs
    scope = model_scope(user, Action.EXPORT)
    exportable = RegisteredModel.objects.filter(scope).values("pk")
    return qs.filter(Q(requested_by=user) | Q(model_id__in=exportable, scope__in=["request", "version", "model"]))


def report_for_user(user, pk: int) -> Report:
    report = reports_visible_to(user).filter(pk=pk).first()
    if report is None:
        from django.http import Http404

        raise Http404("No such report.")
    return report


def report_downloaded(*, user, report: Report, via: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=user,
            action="report.downloaded",
            obj=report,
            model_name=report.model.name if report.model else "",
            data={"sha256": report.sha256, "title": report.title, "via": via},
        )


# --- Building (in the worker) ----------------------------------------------------------


def report_claim(report_id: int) -> bool:
    """Only one worker builds a report; a build lost with its worker may be claimed again
    after the task time limit."""
    now = timezone.now()
    lost_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return (
        Report.objects.filter(pk=report_id)
        .filter(Q(status=ReportStatus.QUEUED) | Q(status=ReportStatus.RUNNING, started_at__lt=lost_before))
        .update(status=ReportStatus.RUNNING, started_at=now, progress=0.0, stage="starting")
        == 1
    )


def report_build(*, report_id: int) -> str:
    if not report_claim(report_id):
        return Report.objects.filter(pk=report_id).values_list("status", flat=True).first() or "missing"
    report = Report.objects.select_related("request", "version", "model", "team", "requested_by").get(pk=report_id)
    last = [0.0]

    def progress(fraction: float, stage: str) -> None:
        fraction = max(last[0], min(0.99, fraction))
        last[0] = fraction
        Report.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(progress=fraction, stage=stage[:200])

    try:
        from governance.reports.build import build_pdf

        pdf, pages = build_pdf(report, progress)
    except Exception as exc:
        log.exception("report %s failed", report_id)
        Report.objects.filter(pk=report_id).update(
            status=ReportStatus.ERROR, error=f"{type(exc).__name__}: {str(exc)[:900]}", stage="failed"
        )
        return ReportStatus.ERROR
    digest = hashlib.sha256(pdf).hexdigest()
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        report.sha256 = digest
        report.generated_at = timezone.now()
        report.file.save("report.pdf", ContentFile(pdf), save=False)
        report.size, report.pages = len(pdf), pages
        report.status, report.progress, report.stage = ReportStatus.DONE, 1.0, "done"
        report.save()
        audit_record(
            actor=report.requested_by,
            action="report.generated",
            obj=report,
            model_name=report.model.name if report.model else "",
            data={
                "scope": report.scope,
                "title": report.title,
                "sha256": digest,
                "pages": pages,
                "size": len(pdf),
            },
        )
    if report.notify_when_done:
        report_email(report)
    return ReportStatus.DONE


def report_email(report: Report) -> bool:
    """Email the requester the link, once (a conditional update claims the sending)."""
    user = report.requested_by
    if not user.email or not Report.objects.filter(pk=report.pk, notified_at__isnull=True).update(
        notified_at=timezone.now()
    ):
        return False
    url = settings.SITE_URL.rstrip("/") + reverse("web:report_detail", args=[report.pk])
    context = {"report": report, "url": url, "user": user}
    prefix = settings.EMAIL_SUBJECT_PREFIX.strip()
    subject = f"{prefix} Report ready: {report.title}".strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("email/report_ready.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("email/report_ready.html", context), "text/html")
    message.send()
    return True


def reports_sweep(*, now: datetime | None = None) -> int:
    """Re-queue reports the broker lost (queued a while) or whose worker died (running past
    the time limit)."""
    now = now or timezone.now()
    stale = Report.objects.filter(
        Q(status=ReportStatus.QUEUED, created_at__lt=now - timedelta(seconds=settings.GATE_STALE_AFTER_SECONDS))
        | Q(status=ReportStatus.RUNNING, started_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60))
    )
    ids = list(stale.values_list("pk", flat=True))
    for report_id in ids:
        _dispatch(report_id)
    return len(ids)


# --- Is this PDF one of ours? ----------------------------------------------------------


def report_verify(*, user, uploaded) -> Report | None:
    """The report whose file has exactly these bytes, or None. Recorded in the audit trail."""
    if uploaded is None:
        raise ReportError("file: upload the PDF to check.", field="file")
    if uploaded.size > MAX_VERIFY_BYTES:
        raise ReportError(f"file: at most {MAX_VERIFY_BYTES // (1024 * 1024)} MB.", field="file")
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    report = (
        Report.objects.filter(sha256=sha256, status=ReportStatus.DONE).select_related("requested_by", "model").first()
    )
    with transaction.atomic():
        audit_record(
            actor=user if getattr(user, "is_authenticated", False) else None,
            action="report.verified",
            obj=report,
            model_name=report.model.name if report and report.model else "",
            data={"sha256": sha256, "match": report is not None},
        )
    return report


def report_summary(report: Report | None) -> dict | None:
    if report is None:
        return None
    return {
        "id": report.pk,
        "scope": report.scope,
        "title": report.title,
        "generated_at": report.generated_at.isoformat() if report.generated_at else None,
        "generated_by": report.requested_by.get_username(),
        "sha256": report.sha256,
    }


# --- Charts drawn ahead ----------------------------------------------------------------


def gate_charts_draw(*, request_id: int) -> int:
    """Draw the charts of a request's final gate outcomes into the chart store (after its
    gates finish), so its PDF only lays them out. Returns how many were drawn now."""
    from governance.gates.models import FINAL_GATE_STATUSES, GateRun
    from governance.reports import charts
    from governance.reports.images import ChartUnavailable, figure_svg_stored

    drawn = 0
    runs = GateRun.objects.current().filter(request_id=request_id, status__in=FINAL_GATE_STATUSES)
    for outcome in runs.values_list("outcome", flat=True):
        fig = charts.gate_figure(outcome)
        if fig is None:
            continue
        try:
            drawn += int(figure_svg_stored(fig)[1])
        except ChartUnavailable:
            log.warning("gate charts of request %s not drawn ahead: no browser", request_id)
            return drawn
    return drawn
