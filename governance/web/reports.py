"""Audit PDF pages: the buttons on request, version, model and audit pages post here.

A request or version report is downloaded straight away when the worker finishes within
REPORT_SYNC_WAIT_SECONDS; otherwise the report's page shows its progress and the requester
gets an email with the link. Model and period reports always go to that page.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.accounts.models import Team
from governance.accounts.permissions import Action, model_scope
from governance.approvals.models import PromotionRequest
from governance.core.errors import DomainError
from governance.registry.models import ModelVersion, RegisteredModel
from governance.registry.selectors import get_model_for_user
from governance.reports import services as reports
from governance.reports.downloads import report_file_response
from governance.reports.models import Report, ReportScope, ReportStatus
from governance.web.forms import add_domain_error


def _start_and_answer(request, report: Report, *, wait: bool):
    if wait:
        report = reports.report_wait(report)
        if report.status == ReportStatus.DONE:
            return redirect("web:report_file", pk=report.pk)
    reports.report_notify_later(report)
    if report.status != ReportStatus.ERROR:
        messages.info(
            request, "The report is being built; this page follows its progress, and you get an email with the link."
        )
    return redirect("web:report_detail", pk=report.pk)


@login_required
@require_POST
def request_report(request, pk):
    promotion = get_object_or_404(PromotionRequest.objects.select_related("version__model"), pk=pk)
    report = reports.report_start(user=request.user, scope=ReportScope.REQUEST, request=promotion)
    return _start_and_answer(request, report, wait=True)


@login_required
@require_POST
def version_report(request, name, number):
    model = get_model_for_user(request.user, name)
    version = get_object_or_404(ModelVersion, model=model, version=number)
    report = reports.report_start(user=request.user, scope=ReportScope.VERSION, version=version)
    return _start_and_answer(request, report, wait=True)


@login_required
@require_POST
def model_report(request, name):
    model = get_model_for_user(request.user, name)
    report = reports.report_start(user=request.user, scope=ReportScope.MODEL, model=model)
    return _start_and_answer(request, report, wait=False)


class PeriodForm(forms.Form):
    since = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="First day, inclusive.")
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="Last day, inclusive.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="All teams I may export")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        scope = model_scope(user, Action.EXPORT)
        models = RegisteredModel.objects.all() if scope is None else RegisteredModel.objects.filter(scope)
        self.fields["team"].queryset = Team.objects.filter(pk__in=models.values("team_id")).order_by("name")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The last day is before the first.")
        return data

    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        since = datetime.combine(self.cleaned_data["since"], time.min, tzinfo=tz)
        until = datetime.combine(self.cleaned_data["until"], time.min, tzinfo=tz) + timedelta(days=1)
        return since, until


@login_required
def report_list(request):
    """My reports and the reports of models I may export; ask for a period report; verify a PDF."""
    form = PeriodForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        since, until = form.bounds()
        try:
            report = reports.report_start(
                user=request.user, scope=ReportScope.PERIOD, team=form.cleaned_data["team"], since=since, until=until
            )
            return _start_and_answer(request, report, wait=False)
        except DomainError as exc:
            add_domain_error(form, exc)
        except PermissionDenied as exc:
            form.add_error("team", str(exc))
    rows = reports.reports_visible_to(request.user).order_by("-created_at")[:50]
    return render(
        request,
        "web/report_list.html",
        {"reports": rows, "period_form": form, "verify_result": None},
        status=400 if form.errors else 200,
    )


@login_required
def report_detail(request, pk):
    report = reports.report_for_user(request.user, pk)
    return render(request, "web/report_detail.html", {"report": report})


@login_required
def report_status(request, pk):
    """What the report page polls while the worker builds the PDF."""
    report = reports.report_for_user(request.user, pk)
    return JsonResponse(
        {"status": report.status, "progress": round(report.progress, 3), "stage": report.stage, "error": report.error}
    )


@login_required
def report_file(request, pk):
    report = reports.report_for_user(request.user, pk)
    if report.status != ReportStatus.DONE:
        raise Http404("The report is not ready.")
    return report_file_response(report, user=request.user, via="web")


@login_required
@require_POST
def report_verify(request):
    form = PeriodForm(user=request.user)
    rows = reports.reports_visible_to(request.user).order_by("-created_at")[:50]
    context = {"reports": rows, "period_form": form}
    try:
        match = reports.report_verify(user=request.user, uploaded=request.FILES.get("file"))
    except DomainError as exc:
        context["verify_error"] = exc.message
        return render(request, "web/report_list.html", context, status=400)
    context["verify_result"] = {"match": match is not None, "report": match}
    return render(request, "web/report_list.html", context)
