"""What the webhook pages and API read: the teams a user manages, a team's hooks, the log."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from governance.accounts.models import Team
from governance.accounts.permissions import team_scope
from governance.accounts.roles import Action
from governance.webhooks.models import Delivery, DeliveryStatus, Webhook


def teams_managed_by(user) -> QuerySet[Team]:
    scope = team_scope(user, Action.MANAGE_WEBHOOKS)
    teams = Team.objects.all() if scope is None else Team.objects.filter(scope)
    return teams.order_by("name")


def team_for_manager(user, name: str) -> Team:
    """The team, if the user may manage its webhooks; else 404 (other teams are not shown)."""
    team = teams_managed_by(user).filter(name=name).first()
    if team is None:
        raise Http404("No such team.")
    return team


def webhooks_of_team(team: Team) -> QuerySet[Webhook]:
    return (
        Webhook.objects.filter(team=team)
        .select_related("team", "created_by")
        .annotate(
            delivery_count=Count("deliveries"),
            failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
            last_delivery_at=Max("deliveries__created_at"),
        )
        .order_by("pk")
    )


def webhook_of_team(team: Team, webhook_id: int) -> Webhook:
    webhook = Webhook.objects.select_related("team", "created_by").filter(team=team, pk=webhook_id).first()
    if webhook is None:
        raise Http404("No such webhook.")
    return webhook


def deliveries_of(webhook: Webhook, *, status: str = "", event_type: str = "") -> QuerySet[Delivery]:
    rows = Delivery.objects.filter(webhook=webhook).select_related("requested_by").prefetch_related("attempt_log")
    if status:
        rows = rows.filter(status=status)
    if event_type:
        rows = rows.filter(event_type=event_type)
    return rows.order_by("-created_at", "-pk")


def delivery_of(webhook: Webhook, delivery_id: int) -> Delivery:
    delivery = (
        Delivery.objects.filter(webhook=webhook, pk=delivery_id)
        .select_related("requested_by")
        .prefetch_related("attempt_log")
        .first()
    )
    if delivery is None:
        raise Http404("No such delivery.")
    return delivery
