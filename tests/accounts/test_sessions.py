"""Taking a role away, or changing a password, ends the user's other browser sessions."""

from __future__ import annotations

import pytest
from django.test import Client

from governance.accounts.models import UserSession
from governance.accounts.services import role_revoke
from governance.audit.models import AuditEvent
from governance.audit.sentences import event_sentence
from tests.factories import PASSWORD, grant, make_team, make_user

pytestmark = pytest.mark.django_db


def _signed_in(client: Client) -> bool:
    response = client.get("/")
    return response.status_code == 200 and "/login/" not in response.get("Location", "")


def _sign_in(username: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def test_a_revoked_role_ends_every_session_of_that_user(admin_user):
    team = make_team("credit")
    rita = make_user("rita")
    grant(rita, "risk_officer", team=team)
    laptop, phone = _sign_in("rita"), _sign_in("rita")
    bystander = make_user("bob")
    other = _sign_in("bob")
    assert _signed_in(laptop) and _signed_in(phone)
    assert UserSession.objects.filter(user=rita).count() == 2

    role_revoke(actor=admin_user, user=rita, role="risk_officer", team=team)

    assert not _signed_in(laptop) and not _signed_in(phone)  # both back to the login page
    assert _signed_in(other)  # nobody else is signed out
    assert not UserSession.objects.filter(user=rita).exists()
    event = AuditEvent.objects.filter(action="role.revoked").latest("seq")
    assert event.data["sessions_ended"] == 2
    assert "2 open sessions ended" in event_sentence(event)
    assert UserSession.objects.filter(user=bystander).count() == 1


def test_signing_out_forgets_the_session():
    make_user("rita")
    client = _sign_in("rita")
    assert UserSession.objects.count() == 1
    client.post("/logout/")
    assert not UserSession.objects.exists()


def test_a_password_change_ends_the_other_sessions():
    rita = make_user("rita")
    laptop = _sign_in("rita")
    assert _signed_in(laptop)
    rita.set_password("a-new-password-2026")
    rita.save()
    assert not _signed_in(laptop)  # its auth hash no longer matches the password
