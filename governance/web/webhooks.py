"""Webhook pages: a team's webhooks, one webhook with its delivery log, one delivery.

Only people who may manage the team's webhooks (accounts.permissions, manage_webhooks) see
these pages; anyone else gets a 404, whatever the team. A new or rotated secret is kept in
the session just long enough to be shown on the next page, once.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.core.errors import DomainError
from governance.web.forms import add_domain_error
from governance.webhooks import selectors, services
from governance.webhooks.events import EVENT_TYPES
from governance.webhooks.models import DeliveryStatus
from governance.webhooks.targets import MAX_URL_LENGTH

LOG_PAGE_SIZE = 50
_SECRET_KEY = "webhook-secret-{pk}"


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="Payload URL",
        max_length=MAX_URL_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://ci.example.com/hooks/governance", "size": 60}),
        help_text="http:// or https://; we POST signed JSON here and follow no redirect.",
    )
    events = forms.MultipleChoiceField(
        choices=list(EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one event to send."},
    )
    description = forms.CharField(
        max_length=services.MAX_DESCRIPTION, required=False, help_text="What receives these events (optional)."
    )


def _keep_secret(request, webhook_id: int, secret: str) -> None:
    request.session[_SECRET_KEY.format(pk=webhook_id)] = secret


def _pop_secret(request, webhook_id: int) -> str:
    return request.session.pop(_SECRET_KEY.format(pk=webhook_id), "")


def _managed_webhook(request, team_name: str, pk: int):
    """The team, if this person may manage its webhooks, and its webhook `pk`; else a 404."""
    team = selectors.team_for_manager(request.user, team_name)
    return team, selectors.webhook_of_team(team, pk)


@login_required
def webhook_teams(request):
    """The entry of the navigation: the teams whose webhooks this person manages."""
    teams = list(selectors.teams_managed_by(request.user))
    if len(teams) == 1:
        return redirect("web:webhook_list", team=teams[0].name)
    return render(request, "webhooks/teams.html", {"teams": teams})


@login_required
def webhook_list(request, team):
    team = selectors.team_for_manager(request.user, team)
    form = WebhookForm(request.POST or None, initial={"events": list(EVENT_TYPES)})
    if request.method == "POST" and form.is_valid():
        try:
            webhook, secret = services.webhook_create(user=request.user, team=team, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            _keep_secret(request, webhook.pk, secret)
            return redirect("web:webhook_detail", team=team.name, pk=webhook.pk)
    return render(
        request,
        "webhooks/list.html",
        {"team": team, "webhooks": selectors.webhooks_of_team(team), "form": form, "event_labels": EVENT_TYPES},
        status=400 if form.errors else 200,
    )


@login_required
def webhook_detail(request, team, pk):
    team, webhook = _managed_webhook(request, team, pk)
    initial = {"url": webhook.url, "events": webhook.events, "description": webhook.description}
    form = WebhookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_update(user=request.user, webhook=webhook, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Webhook saved.")
            return redirect("web:webhook_detail", team=team.name, pk=webhook.pk)
    status = request.GET.get("status", "")
    status = status if status in DeliveryStatus.values else ""
    page = Paginator(selectors.deliveries_of(webhook, status=status), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/detail.html",
        {
            "team": team,
            "webhook": webhook,
            "form": form,
            "new_secret": _pop_secret(request, webhook.pk),
            "page": page,
            "status": status,
            "statuses": DeliveryStatus.choices,
            "event_labels": EVENT_TYPES,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def webhook_rotate(request, team, pk):
    team, webhook = _managed_webhook(request, team, pk)
    webhook, secret = services.webhook_rotate_secret(user=request.user, webhook=webhook)
    _keep_secret(request, webhook.pk, secret)
    return redirect("web:webhook_detail", team=team.name, pk=webhook.pk)


@login_required
@require_POST
def webhook_active(request, team, pk):
    """Deactivate or activate again (the button says which)."""
    team, webhook = _managed_webhook(request, team, pk)
    active = request.POST.get("active") == "true"
    try:
        services.webhook_update(user=request.user, webhook=webhook, active=active)
    except DomainError as exc:  # e.g. a URL no longer allowed: it must be fixed first
        messages.error(request, exc.message)
    else:
        messages.success(request, "Webhook activated." if active else "Webhook deactivated: it receives nothing.")
    return redirect("web:webhook_detail", team=team.name, pk=webhook.pk)


@login_required
@require_POST
def webhook_delete(request, team, pk):
    team, webhook = _managed_webhook(request, team, pk)
    services.webhook_delete(user=request.user, webhook=webhook)
    messages.success(request, f"Webhook to {webhook.url} deleted, with its delivery log.")
    return redirect("web:webhook_list", team=team.name)


@login_required
@require_POST
def webhook_test(request, team, pk):
    team, webhook = _managed_webhook(request, team, pk)
    try:
        services.webhook_ping(user=request.user, webhook=webhook)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Test event queued; its delivery appears in the log below.")
    return redirect("web:webhook_detail", team=team.name, pk=pk)


@login_required
def delivery_detail(request, team, pk, delivery):
    team, webhook = _managed_webhook(request, team, pk)
    row = selectors.delivery_of(webhook, delivery)
    payload_text = json.dumps(row.payload, indent=2, sort_keys=True, ensure_ascii=False)
    return render(
        request,
        "webhooks/delivery.html",
        {"team": team, "webhook": webhook, "delivery": row, "payload_text": payload_text},
    )


@login_required
@require_POST
def delivery_redeliver(request, team, pk, delivery):
    team, webhook = _managed_webhook(request, team, pk)
    try:
        again = services.delivery_redeliver(user=request.user, delivery=selectors.delivery_of(webhook, delivery))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:webhook_delivery", team=team.name, pk=pk, delivery=delivery)
    messages.success(request, f"Event sent again as delivery #{again.pk}.")
    return redirect("web:webhook_delivery", team=team.name, pk=pk, delivery=again.pk)
