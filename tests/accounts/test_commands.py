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
    assert event.data == {"user": "pipeline", "prefix": token.prefix, "name": "", "via": "manage.py create_token"}
    assert last not in str(event.data)
    with pytest.raises(CommandError, match="no user"):
        call_command("create_token", "ghost")
