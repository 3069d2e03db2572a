"""The dry-run page of a version: a POST asks a worker (gates/dry_run.py), the page shows the
result when it is ready. Like the API: model owners, MLOps and approvers (auditors 403),
throttled per user, bounded in time; a GET only shows a form or a dry run already asked for."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from governance.accounts.permissions import Action, user_may
from governance.api.throttling import DryRunThrottle
from governance.gates.dry_run import dry_run_for_user, dry_run_start, dry_run_wait
from governance.gates.models import DryRunStatus
from governance.reports import charts
from governance.web import forms
from governance.web.views import _version_for


@login_required
def version_dry_run(request, name, number):
    version = _version_for(request.user, name, number)
    model = version.model
    if request.method == "POST":
        form = forms.DryRunForm(request.POST)
        if form.is_valid():
            throttle = DryRunThrottle()
            if not throttle.allow_request(request, None):
                wait = int(throttle.wait() or 60)
                response = render(
                    request,
                    "web/dry_run.html",
                    {"version": version, "model": model, "form": form, "throttled": wait},
                    status=429,
                )
                response["Retry-After"] = str(wait)
                return response
            src, dst = form.cleaned_data["transition"].split("->")
            run = dry_run_start(user=request.user, version=version, from_stage=src, to_stage=dst)
            dry_run_wait(run)
            return redirect(f"{reverse('web:version_dry_run', args=[model.name, version.version])}?run={run.pk}")
    else:
        form = forms.DryRunForm(
            initial={"transition": request.GET.get("transition")} if "transition" in request.GET else None
        )
    run = report = None
    if request.GET.get("run", "").isdigit():
        run = dry_run_for_user(request.user, int(request.GET["run"]))
        if run.version_id != version.pk:
            raise Http404("No such dry run of this version.")
        form = forms.DryRunForm(initial={"transition": f"{run.from_stage}->{run.to_stage}"})
        report = dict(run.result or {}, transition=f"{run.from_stage}->{run.to_stage}")
        for gate in report.get("gates", []):
            gate["chart"] = charts.gate_chart_html(gate)
    response: HttpResponse = render(
        request,
        "web/dry_run.html",
        {
            "version": version,
            "model": model,
            "form": form,
            "run": run,
            "report": report,
            "pending": run is not None and run.status in (DryRunStatus.QUEUED, DryRunStatus.RUNNING),
            "may_dry_run": user_may(request.user, Action.DRY_RUN, model),
        },
        status=200 if request.method == "GET" else 400,
    )
    return response
