"""A model's production history (time travel): a timeline, its tenures, who served at a time."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from governance.approvals.history import parse_at, production_tenures, served_at
from governance.core.errors import DomainError
from governance.registry.selectors import get_model_for_user
from governance.reports import charts


@login_required
def model_history(request, name):
    model = get_model_for_user(request.user, name)
    now = timezone.now()
    raw_at = (request.GET.get("at") or "").strip()
    error = ""
    try:
        at = parse_at(raw_at) if raw_at else now
    except DomainError as exc:
        at, error = now, exc.message
    tenures = production_tenures(model)
    served = served_at(model, at, tenures)
    figure = charts.production_timeline_figure(tenures, at=at if raw_at and not error else None, now=now)
    rows = [(tenure, tenure.serves_at(at) and bool(raw_at)) for tenure in reversed(tenures)]
    return render(
        request,
        "web/model_history.html",
        {
            "model": model,
            "rows": rows,
            "served": served,
            "at": at,
            "raw_at": raw_at[:64],
            "at_input": timezone.localtime(at).strftime("%Y-%m-%dT%H:%M") if raw_at and not error else "",
            "asked": bool(raw_at) and not error,
            "at_error": error,
            "chart": charts.figure_html(figure) if figure is not None else "",
        },
        status=400 if error else 200,
    )
