"""Admin commands of DESIGN.md: create_team, grant_role, revoke_role, create_token."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.accounts.models import ApiToken
from governance.accounts.permissions import roles_for_model
from governance.audit.models import AuditEvent
from tests.factories import make_model, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def test_create_team_grant_and_revoke(capsys):
    call_command("create_team", "risk")
    user = make_user("rita")
    model = make_model(
        "pd", team=__import__("governance.accounts.models", fromlist=["Team"]).Team.objects.get(name="risk")
    )
    call_command("grant_role", "rita", "risk_officer", "--team", "risk")
    call_command("grant_role", "rita", "auditor", "--model", "pd")
    assert roles_for_model(user, model) == {"risk_officer", "auditor"}
    call_command("revoke_role", "rita", "risk_officer", "--team", "risk")
    assert roles_for_model(user, model) == {"auditor"}
    out = capsys.readouterr().out
    assert "granted risk_officer to rita on team risk" in out


@pytest.mark.parametrize(
    "args,message",
    [
        (["nobody", "auditor", "--team", "risk"], "no user 'nobody'"),
        (["rita", "wizard", "--team", "risk"], "unknown role 'wizard'"),
        (["rita", "auditor", "--team", "nope"], "no team 'nope'"),
        (["rita", "auditor", "--model", "nope"], "no model 'nope'"),
    ],
)
def test_grant_role_errors_are_clear(args, message):
    call_command("create_team", "risk")
    make_user("rita")
    with pytest.raises(CommandError, match=message):
        call_command("grant_role", *args)


def test_create_token_prints_the_token_alone_on_its_last_line(capsys):
    make_user("pipeline")
    call_command("create_token", "pipeline")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("gov_") and " " not in last
    token = ApiToken.objects.get()
    assert token.key_hash == ApiToken.hash_key(last)
    # Issuing is a governance fact: who got which token, by which door (never the key).
    event = AuditEvent.objects.get(action="token.issued")
    assert event.data == {
        "user": "pipeline",
        "prefix": token.prefix,
        "name": "",
        "via": "manage.py create_token",
        "scope": "personal",
        "teams": [],
        "expires_at": None,
    }
    assert last not in str(event.data)
    with pytest.raises(CommandError, match="no user"):
        call_command("create_token", "ghost")


def test_create_token_with_teams_makes_a_service_token_that_must_expire(capsys):
    from datetime import UTC, datetime, timedelta

    from django.utils import timezone

    from governance.accounts.models import Team

    make_user("ci-bot")
    call_command("create_team", "credit")
    call_command("create_team", "fraud")
    with pytest.raises(CommandError, match="--expires: a service token"):
        call_command("create_token", "ci-bot", "--team", "credit")
    with pytest.raises(CommandError, match="no team 'ghost'"):
        call_command("create_token", "ci-bot", "--team", "ghost", "--expires", "30d")
    with pytest.raises(CommandError, match="--expires: 'soon' is neither"):
        call_command("create_token", "ci-bot", "--team", "credit", "--expires", "soon")
    with pytest.raises(CommandError, match="at most 365 days"):
        call_command("create_token", "ci-bot", "--team", "credit", "--expires", "400d")
    assert not ApiToken.objects.exists()
    capsys.readouterr()
    day = (timezone.now() + timedelta(days=100)).date()
    call_command(
        "create_token", "ci-bot", "--team", "credit", "--team", "fraud", "--expires", day.isoformat(), "--name", "ci"
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert f"service token for credit, fraud for ci-bot, expires {day} 23:59 UTC" in out[0]
    token = ApiToken.objects.get()
    assert token.key_hash == ApiToken.hash_key(out[-1])
    assert token.expires_at == datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
    assert set(token.teams.values_list("name", flat=True)) == {"credit", "fraud"}
    assert set(Team.objects.values_list("name", flat=True)) == {"credit", "fraud"}
    event = AuditEvent.objects.get(action="token.issued")
    assert event.data["scope"] == "service" and event.data["teams"] == ["credit", "fraud"]
    assert event.data["expires_at"] == f"{day}T23:59:59+00:00"
