"""The audit page (each event as a sentence, its raw record one click away) and its CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from governance.accounts.permissions import audit_scope
from governance.audit.exports import audit_export_start, csv_response
from governance.audit.selectors import AuditFilters, audit_events
from governance.audit.sentences import action_families
from governance.core.errors import DomainError
from governance.registry.selectors import models_visible_to
from governance.web.audit_rows import audit_rows

PAGE_SIZE = 50


def _filters(request) -> tuple[AuditFilters, list[str]]:
    """The query string's filters (DomainError naming the field when one is bad) and the
    names of the models the user may pick."""
    models = list(models_visible_to(request.user).order_by("name").values_list("name", flat=True))
    filters = AuditFilters.from_query(request.GET)
    if filters.model and filters.model not in models:
        raise DomainError(f"model: no model named {filters.model!r} that you can see.", field="model")
    return filters, models


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@login_required
def audit_list(request):
    form = {k: (request.GET.get(k) or "")[:200] for k in ("model", "version", "action", "actor", "since", "until")}
    context = {"form": form, "families": action_families(), "query": _query_without_page(request)}
    try:
        filters, models = _filters(request)
    except DomainError as exc:
        models = list(models_visible_to(request.user).order_by("name").values_list("name", flat=True))
        return render(
            request,
            "web/audit_list.html",
            {**context, "models": models, "filter_error": exc.message, "error_field": exc.field},
            status=400,
        )
    events = audit_events(scope=audit_scope(request.user), filters=filters).reverse()  # newest first
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = audit_rows(page.object_list)
    known = {a for _, actions in context["families"] for a in actions} | {f for f, _ in context["families"]}
    return render(
        request,
        "web/audit_list.html",
        {
            **context,
            "models": models,
            "page": page,
            "rows": rows,
            "filters": filters,
            "other_action": filters.action if filters.action and filters.action not in known else "",
        },
    )


@login_required
def audit_csv(request):
    """The page's events as CSV, with the page's filters; a bad filter shows the page's error."""
    try:
        filters, _ = _filters(request)
    except DomainError:
        return audit_list(request)
    lines = audit_export_start(user=request.user, scope=audit_scope(request.user), filters=filters, via="web")
    return csv_response(lines)
