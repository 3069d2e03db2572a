"""The API tokens page (user menu → API tokens): your tokens, issue one (its key shown once),
revoke one. Team admins may scope a token to their teams (a service token, which must
expire). The rules are accounts.permissions; issuing and revoking are audit events."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.accounts.models import ApiToken, Team
from governance.accounts.permissions import Action, is_admin, user_may_on_team
from governance.accounts.services import NAME_MAX, token_issue, token_revoke
from governance.core.errors import DomainError
from governance.web.forms import add_domain_error


def teams_for_service_tokens(user) -> list[Team]:
    """Teams the user may scope a token to (their team admin grants; admins: all)."""
    return [t for t in Team.objects.order_by("name") if user_may_on_team(user, Action.ISSUE_SERVICE_TOKEN, t)]


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX, help_text="What it is for, e.g. “credit-risk CI”: you will see it in this list."
    )
    expires = forms.DateField(
        required=False,
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The token stops working at the end of this day (UTC). Required for a service token.",
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Limit to teams (service token)",
        help_text="A service token reaches only these teams' models and can never approve or reject a promotion. "
        "Leave empty for a personal token with all your roles.",
    )

    def __init__(self, *args, teams: list[Team], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = Team.objects.filter(pk__in=[t.pk for t in teams]).order_by("name")
        if not teams:
            del self.fields["teams"]


def _end_of(day) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


@login_required
def token_list(request):
    teams = teams_for_service_tokens(request.user)
    form = TokenForm(request.POST or None, teams=teams)
    new_key = new_token = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new_token, new_key = token_issue(
                actor=request.user,
                user=request.user,
                name=data["name"],
                teams=list(data.get("teams") or []),
                expires_at=_end_of(data["expires"]) if data["expires"] else None,
                via="web",
            )
            form = TokenForm(teams=teams)
        except DomainError as exc:
            add_domain_error(form, exc, rename={"expires_at": "expires"})
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
    tokens = (
        ApiToken.objects.filter(user=request.user)
        .select_related("issued_by")
        .prefetch_related("teams")
        .order_by(F("revoked_at").asc(nulls_first=True), "-created_at")  # active ones first
    )
    now = timezone.now()
    rows = [
        {
            "token": t,
            "teams": [team.name for team in t.teams.all()],
            "status": "revoked" if t.revoked_at else ("expired" if t.expired(now) else "active"),
        }
        for t in tokens
    ]
    response = render(
        request,
        "web/token_list.html",
        {"form": form, "rows": rows, "new_key": new_key, "new_token": new_token, "can_scope": bool(teams)},
        status=400 if request.method == "POST" and new_key is None else 200,
    )
    response["Cache-Control"] = "no-store"  # a page showing a key is never cached
    return response


@login_required
@require_POST
def token_revoke_view(request, pk):
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk)
    if token.user_id != request.user.pk and not is_admin(request.user):
        raise PermissionDenied("This is not your token.")
    if token_revoke(actor=request.user, token=token):
        messages.success(request, f"Revoked the token {token.prefix}… “{token.name}”: it no longer works.")
    else:
        messages.info(request, f"The token {token.prefix}… was already revoked.")
    return redirect("web:token_list")
