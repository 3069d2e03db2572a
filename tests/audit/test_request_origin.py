"""Who came from where: logins, failed logins and logouts are audited, and every event
written while serving a web or API request carries its IP and user agent (in the hash)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken
from governance.audit.models import AuditEvent
from governance.audit.services import audit_record, audit_verify
from tests.factories import make_user, upload
from tests.tamper import AUDIT_TRIGGERS, guards_off

pytestmark = pytest.mark.django_db

AGENT = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


def _last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("seq").last()


def test_a_login_and_a_logout_are_audited_with_ip_and_user_agent(client):
    make_user("dana", password="correct horse battery")
    response = client.post(
        "/login/",
        {"username": "dana", "password": "correct horse battery"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT=AGENT,
    )
    assert response.status_code == 302
    login = _last("auth.login")
    assert login.actor_label == "dana" and login.ip == "203.0.113.7" and login.user_agent == AGENT
    client.post("/logout/", REMOTE_ADDR="203.0.113.8", HTTP_USER_AGENT=AGENT)
    logout = _last("auth.logout")
    assert logout.actor_label == "dana" and logout.ip == "203.0.113.8"
    assert audit_verify().ok


def test_a_failed_login_records_the_name_tried_never_the_password(client):
    make_user("dana", password="correct horse battery")
    response = client.post(
        "/login/",
        {"username": "dana", "password": "wrong-guess-123"},
        REMOTE_ADDR="198.51.100.23",
        HTTP_USER_AGENT="curl/8.5.0",
    )
    assert response.status_code == 200  # the form again, with its error
    failed = _last("auth.login_failed")
    assert failed.data == {"username": "dana"} and failed.actor is None
    assert failed.ip == "198.51.100.23" and failed.user_agent == "curl/8.5.0"
    assert "wrong-guess" not in str(AuditEvent.objects.values_list("data", flat=True))
    client.post("/login/", {"username": "nobody\x00" + "x" * 500, "password": "p"})
    assert len(_last("auth.login_failed").data["username"]) <= 150


def test_api_events_carry_ip_and_user_agent(team, alice):
    from governance.accounts.services import role_grant

    role_grant(actor=None, user=alice, role="model_owner", team=team)
    _, key = ApiToken.issue(user=alice)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.post(
        "/api/v1/models/",
        {"name": "from-ci", "team": team.name, "risk_tier": "medium", "description": "d"},
        format="json",
        REMOTE_ADDR="192.0.2.44",
        HTTP_USER_AGENT="govern-cli/1.0 httpx",
    )
    assert response.status_code == 201, response.content
    created = _last("model.created")
    assert created.model_name == "from-ci" and created.ip == "192.0.2.44"
    assert created.user_agent == "govern-cli/1.0 httpx"


def test_web_events_carry_them_and_downloads_are_audited(client, alice, version):
    artifact = upload(alice, version, "attachment", b"%PDF-1.4 evidence", "validation.pdf")
    assert _last("evidence.uploaded") is None or _last("evidence.uploaded").ip is None  # not a request
    client.force_login(alice)
    response = client.get(
        f"/models/{version.model.name}/v1/evidence/{artifact.pk}/download/",
        REMOTE_ADDR="2001:db8::5",
        HTTP_USER_AGENT=AGENT,
    )
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 evidence"
    downloaded = _last("evidence.downloaded")
    assert downloaded.actor_label == "alice" and downloaded.model_name == version.model.name
    assert downloaded.data == {"version": 1, "kind": "attachment", "sha256": artifact.sha256, "file": "validation.pdf"}
    assert downloaded.ip == "2001:db8::5" and downloaded.user_agent == AGENT


def test_a_refused_download_records_nothing(client, charlie, alice, version):
    artifact = upload(alice, version, "attachment", b"secret", "secret.pdf")
    client.force_login(charlie)
    response = client.get(f"/models/{version.model.name}/v1/evidence/{artifact.pk}/download/")
    assert response.status_code == 404
    assert _last("evidence.downloaded") is None


@override_settings(AUDIT_TRUSTED_PROXIES=1)
def test_behind_a_trusted_proxy_the_address_it_saw_is_recorded(client):
    make_user("dana", password="pw-123456789")
    client.post(
        "/login/",
        {"username": "dana", "password": "pw-123456789"},
        REMOTE_ADDR="10.0.0.2",  # the proxy
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",  # a forged entry, then what the proxy saw
    )
    assert _last("auth.login").ip == "203.0.113.9"


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(client):
    make_user("dana", password="pw-123456789")
    client.post(
        "/login/",
        {"username": "dana", "password": "pw-123456789"},
        REMOTE_ADDR="203.0.113.10",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    assert _last("auth.login").ip == "203.0.113.10"


def test_events_without_an_origin_verify_as_before_and_an_edited_origin_is_caught(client):
    with transaction.atomic():
        audit_record(actor=None, action="test.happened", data={"i": 1})  # no request: no ip
    make_user("dana", password="pw-123456789")
    client.post("/login/", {"username": "dana", "password": "pw-123456789"}, REMOTE_ADDR="203.0.113.7")
    assert audit_verify().ok
    login = _last("auth.login")
    with guards_off(*AUDIT_TRIGGERS) as cursor:
        cursor.execute("UPDATE audit_auditevent SET ip = '192.0.2.1' WHERE seq = %s", [login.seq])
    verdict = audit_verify()
    assert not verdict.ok and verdict.first_bad_seq == login.seq and "edited" in verdict.reason
