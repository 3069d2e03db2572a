"""The decision form: a risk class chosen on purpose, the policy's ticket format, only the
roles the decision rule offers, and the password again on high-stakes models."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.approvals.models import Decision
from governance.approvals.services import promotion_request
from governance.audit.models import AuditEvent
from governance.web.forms import DecisionForm
from governance.web.reauth import SESSION_KEY, authenticated_at
from tests.factories import PASSWORD, grant, make_model, make_version

pytestmark = pytest.mark.django_db

TICKETS = """
name: tickets-{name}
applies_to: {{models: [{name}]}}
transitions:
  draft->staging:
    gates: []
    approvals: [{{role: reviewer}}]
    ticket_pattern: 'CHG-[0-9]+'
    ticket_example: CHG-1234
"""


def _file(alice, version):
    request = promotion_request(user=alice, version=version, to_stage="staging", justification="ready")
    request.refresh_from_db()
    return request


@pytest.fixture
def pending(alice, bob, version):
    return _file(alice, version)


def _decide(client, request, **overrides):
    data = {"decision": "approve", "risk_class": "medium", "reason": "checked the gates", **overrides}
    return client.post(f"/requests/{request.pk}/decide/", {k: v for k, v in data.items() if v is not None})


def _age_sign_in(client, minutes: float) -> None:
    session = client.session
    session[SESSION_KEY] = (timezone.now() - timedelta(minutes=minutes)).timestamp()
    session.save()


# --- Risk class ---------------------------------------------------------------------------


def test_the_risk_class_has_no_default(client, bob, pending):
    client.force_login(bob)
    page = client.get(f"/requests/{pending.pk}/").content.decode()
    select = page.split('name="risk_class"', 1)[1].split("</select>", 1)[0]
    assert '<option value="" selected>Choose…</option>' in select
    assert "selected" not in select.split("Choose…", 1)[1]


def test_a_decision_without_a_risk_class_is_refused(client, bob, pending):
    client.force_login(bob)
    events = AuditEvent.objects.count()
    response = _decide(client, pending, risk_class=None)
    assert response.status_code == 400
    assert "Choose the risk classification of this change." in response.content.decode()
    assert not Decision.objects.exists() and AuditEvent.objects.count() == events


def test_the_form_is_unbound_without_a_risk_class_preselected():
    form = DecisionForm(roles=["reviewer"])
    assert form["risk_class"].value() is None and form.fields["risk_class"].required


# --- Ticket format ------------------------------------------------------------------------


@pytest.fixture
def ticketed(alice, bob, version, admin_user):
    from governance.policies.services import policy_publish

    policy_publish(text=TICKETS.format(name=version.model.name), author=admin_user, reason="change tickets")
    request = _file(alice, version)
    assert request.ticket_pattern == "CHG-[0-9]+", "promotion_request freezes the ticket format from the policy"
    return request


@pytest.mark.parametrize(
    "ticket,message",
    [
        ("", "A ticket ID is required here. Ticket IDs look like CHG-1234 here."),
        ("chg 12", "“chg 12” is not a ticket ID. Ticket IDs look like CHG-1234 here."),
        ("CHG-1234x", "“CHG-1234x” is not a ticket ID. Ticket IDs look like CHG-1234 here."),  # a full match
        ("see CHG-1", "“see CHG-1” is not a ticket ID. Ticket IDs look like CHG-1234 here."),
    ],
)
def test_a_ticket_that_does_not_match_the_policy_is_refused_with_an_example(client, bob, ticketed, ticket, message):
    client.force_login(bob)
    response = _decide(client, ticketed, ticket_id=ticket)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Decision.objects.exists()


def test_a_ticket_in_the_policys_format_is_accepted(client, bob, ticketed):
    client.force_login(bob)
    assert _decide(client, ticketed, ticket_id="CHG-77").status_code == 302
    assert Decision.objects.get().ticket_id == "CHG-77"


def test_without_a_ticket_format_the_ticket_stays_optional(client, bob, pending):
    client.force_login(bob)
    assert _decide(client, pending, ticket_id="").status_code == 302


# --- Roles --------------------------------------------------------------------------------


def test_the_role_choice_holds_only_the_roles_the_decision_rule_offers(client, bob, team, pending):
    grant(bob, "risk_officer", team=team)  # held, but this request needs a reviewer only
    client.force_login(bob)
    response = _decide(client, pending, role="risk_officer")
    page = response.content.decode()
    assert response.status_code == 400 and "Select a valid choice" in page
    select = page.split('name="role"', 1)[1].split("</select>", 1)[0]
    assert 'value="reviewer"' in select and "risk_officer" not in select
    assert not Decision.objects.exists()
    assert _decide(client, pending, role="reviewer").status_code == 302


def test_a_role_whose_slots_are_filled_is_labelled_and_listed_last():
    form = DecisionForm(roles=["model_owner", "risk_officer"], approve_roles=["risk_officer"])
    assert [value for value, _ in form.fields["role"].choices] == ["risk_officer", "model_owner"]
    assert "slots are filled" in dict(form.fields["role"].choices)["model_owner"]


# --- Password again on high-stakes models -----------------------------------------------


@pytest.fixture
def high_stakes(alice, bob, team, request):
    model = make_model("credit-regulated", team=team, risk_tier=request.param)
    return _file(alice, make_version(model, alice))


def test_logging_in_stamps_the_session(client, bob):
    before = timezone.now()
    assert client.post("/login/", {"username": "bob", "password": PASSWORD}).status_code == 302
    assert before - timedelta(seconds=1) <= authenticated_at(client.session) <= timezone.now()


@pytest.mark.parametrize("high_stakes", ["regulated", "safety_critical"], indirect=True)
def test_a_recent_sign_in_needs_no_password(client, bob, high_stakes):
    client.force_login(bob)
    _age_sign_in(client, 9)
    assert _decide(client, high_stakes).status_code == 302


@pytest.mark.parametrize("high_stakes", ["regulated", "safety_critical"], indirect=True)
def test_after_ten_minutes_the_password_is_asked_again(client, bob, high_stakes):
    client.force_login(bob)
    _age_sign_in(client, 11)
    response = _decide(client, high_stakes)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'name="password"' in page and "Type your password to confirm it is you." in page
    assert not Decision.objects.exists()


@pytest.mark.parametrize("high_stakes", ["regulated"], indirect=True)
def test_a_wrong_password_is_refused_and_nothing_is_recorded(client, bob, high_stakes):
    client.force_login(bob)
    _age_sign_in(client, 30)
    events = set(AuditEvent.objects.values_list("pk", flat=True))
    response = _decide(client, high_stakes, password="not-my-password")
    assert response.status_code == 400
    assert "That is not your password; nothing was recorded." in response.content.decode()
    assert not Decision.objects.exists()
    # Only the failed password itself is audited, as a failed sign-in (it counts towards the lockout).
    new = AuditEvent.objects.exclude(pk__in=events)
    assert [(e.action, e.data["username"]) for e in new] == [("auth.login_failed", "bob")]
    assert timezone.now() - authenticated_at(client.session) > timedelta(minutes=29)  # not refreshed


@pytest.mark.parametrize("high_stakes", ["regulated"], indirect=True)
def test_guessing_the_password_on_the_decision_form_locks_it_out(client, bob, high_stakes):
    client.force_login(bob)
    _age_sign_in(client, 30)
    for _ in range(5):
        assert _decide(client, high_stakes, password="guess").status_code in (400, 429)
    response = _decide(client, high_stakes, password=PASSWORD)
    assert response.status_code == 429 and b"locked" in response.content
    assert not Decision.objects.exists()
    assert AuditEvent.objects.filter(action="auth.locked_out", data__username="bob").exists()


@pytest.mark.parametrize("high_stakes", ["regulated"], indirect=True)
def test_the_right_password_records_the_decision_and_refreshes_the_sign_in(client, bob, high_stakes):
    client.force_login(bob)
    _age_sign_in(client, 30)
    assert _decide(client, high_stakes, password=PASSWORD).status_code == 302
    assert Decision.objects.get().user == bob
    assert timezone.now() - authenticated_at(client.session) < timedelta(minutes=1)


def test_a_session_without_a_sign_in_time_counts_as_old(client, bob, team, alice):
    request = _file(alice, make_version(make_model("credit-regulated", team=team, risk_tier="regulated"), alice))
    client.force_login(bob)
    session = client.session
    del session[SESSION_KEY]
    session.save()
    assert _decide(client, request).status_code == 400
    assert _decide(client, request, password=PASSWORD).status_code == 302


@pytest.mark.parametrize("tier", ["low", "medium", "high"])
def test_other_tiers_never_ask_for_the_password(client, bob, team, alice, tier):
    request = _file(alice, make_version(make_model(f"credit-{tier}", team=team, risk_tier=tier), alice))
    client.force_login(bob)
    _age_sign_in(client, 600)
    response = _decide(client, request)
    assert response.status_code == 302
    assert Decision.objects.filter(request=request).count() == 1
