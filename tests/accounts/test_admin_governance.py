"""The Django admin is no back door: governance facts edited there are either impossible
(read-only, no delete) or go through the audited services."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from governance.accounts.models import ApiToken
from governance.audit.models import AuditEvent
from governance.audit.services import audit_verify
from tests.factories import make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _events(action: str):
    return AuditEvent.objects.filter(action=action)


def test_moving_a_model_to_another_team_or_changing_its_tier_is_impossible(admin_client, model, other_team):
    url = f"/admin/registry/registeredmodel/{model.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="team"' not in page and 'name="risk_tier"' not in page  # shown, not editable
    response = admin_client.post(
        url,
        {"team": other_team.pk, "risk_tier": "regulated", "domain": "credit", "description": "moved?"},
    )
    assert response.status_code == 302
    model.refresh_from_db()
    assert model.team_id != other_team.pk and model.risk_tier == "medium"
    assert model.description == "moved?"  # what is not governed still changes
    assert admin_client.post(f"/admin/registry/registeredmodel/{model.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(model).objects.filter(pk=model.pk).exists()


def test_a_token_is_revoked_through_the_audited_service_and_never_un_revoked(admin_client, alice):
    token, _ = ApiToken.issue(user=alice, name="ci")
    url = f"/admin/accounts/apitoken/{token.pk}/change/"
    assert 'name="revoked_at' not in admin_client.get(url).content.decode()
    response = admin_client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk], "index": 0}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = _events("token.revoked").get()
    assert event.actor_label == "admin" and event.data == {"user": "alice", "prefix": token.prefix, "name": "ci"}
    # Un-revoking through the change form: the field is read-only, the token stays revoked.
    revoked_at = token.revoked_at
    admin_client.post(url, {"name": "ci", "revoked_at_0": "", "revoked_at_1": ""})
    token.refresh_from_db()
    assert token.revoked_at == revoked_at
    # Revoking again changes nothing and records nothing; deleting is refused.
    admin_client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk], "index": 0})
    assert _events("token.revoked").count() == 1
    assert admin_client.post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 403
    assert audit_verify().ok


def test_a_team_is_neither_renamed_created_nor_deleted_in_the_admin(admin_client, team):
    url = f"/admin/accounts/team/{team.pk}/change/"
    admin_client.post(url, {"name": "renamed", "display_name": "Credit risk"})
    team.refresh_from_db()
    assert team.name == "credit" and team.display_name == "Credit risk"
    assert admin_client.get("/admin/accounts/team/add/").status_code == 403
    assert admin_client.post(f"/admin/accounts/team/{team.pk}/delete/", {"post": "yes"}).status_code == 403


def test_making_someone_staff_in_the_admin_is_audited(admin_client):
    dana = make_user("dana")
    url = f"/admin/auth/user/{dana.pk}/change/"
    form = {
        "username": "dana",
        "email": "dana@example.test",
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "09:00:00",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    dana.refresh_from_db()
    assert dana.is_staff
    event = _events("user.privileges_changed").get()
    assert event.actor_label == "admin" and event.object_id == str(dana.pk)
    assert event.data == {"username": "dana", "before": {"is_staff": False}, "after": {"is_staff": True}}
    admin_client.post(url, form)  # the same again: nothing changed, nothing recorded
    assert _events("user.privileges_changed").count() == 1
    assert get_user_model().objects.get(pk=dana.pk).is_staff


def test_admin_edits_carry_the_admins_ip(admin_client, model):
    make_team("other")
    admin_client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [ApiToken.issue(user=make_user("eve"))[0].pk], "index": 0},
        REMOTE_ADDR="203.0.113.50",
    )
    assert _events("token.revoked").get().ip == "203.0.113.50"
