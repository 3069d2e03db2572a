"""Issue 14: login throttling (django-axes) and wrong API tokens throttled, against the real
database and Redis; before, 30 wrong passwords in a row were followed by a good login."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken
from governance.audit.models import AuditEvent
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@override_settings(AXES_COOLOFF_TIME=timedelta(seconds=2))
def test_thirty_wrong_passwords_lock_the_account_until_the_cool_off(alice):
    client = Client()
    for _ in range(30):
        assert sign_in(client, "alice", "wrong password").status_code in (200, 429)
        assert not signed_in(client)
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429 and b"locked" in response.content
    assert not signed_in(client)

    assert AuditEvent.objects.filter(action="auth.locked_out", data__username="alice").exists()
    assert AuditEvent.objects.filter(action="auth.login_failed", data__username="alice").count() >= 5

    time.sleep(2.2)  # the cool-off
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302 and signed_in(client)
    assert AuditEvent.objects.filter(action="auth.login", data__username="alice").exists()


def test_the_lockout_is_per_user_name_and_address(alice, bob):
    client = Client()
    for _ in range(5):
        sign_in(client, "alice", "wrong password")
    assert sign_in(client, "alice", PASSWORD).status_code == 429
    assert sign_in(Client(), "bob", PASSWORD).status_code == 302  # another user from the same address
    other_address = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(other_address, "alice", PASSWORD).status_code == 302 and signed_in(other_address)


def test_an_admin_unlocks_a_locked_user(alice, admin_user):
    for _ in range(5):
        sign_in(Client(), "alice", "wrong password")
    assert sign_in(Client(), "alice", PASSWORD).status_code == 429
    admin = Client()
    admin.force_login(admin_user)
    attempt = AccessAttempt.objects.get(username="alice")
    assert admin.get("/admin/axes/accessattempt/").status_code == 200
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    client = Client()
    assert sign_in(client, "alice", PASSWORD).status_code == 302 and signed_in(client)


@override_settings(TOKEN_FAILURE_LIMIT=3)
def test_wrong_api_tokens_are_throttled_per_address(db):
    user = make_user("pipeline")
    _, key = ApiToken.issue(user=user)
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    attacker = APIClient(REMOTE_ADDR=address)
    for guess in range(3):
        attacker.credentials(HTTP_AUTHORIZATION=f"Token wrong-{guess}")
        assert attacker.get("/api/v1/models/").status_code == 401
    response = attacker.get("/api/v1/models/")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    attacker.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert attacker.get("/api/v1/models/").status_code == 429  # until the window ends, even a right one

    elsewhere = APIClient(REMOTE_ADDR="192.0.2.44")
    elsewhere.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert elsewhere.get("/api/v1/models/").status_code == 200
