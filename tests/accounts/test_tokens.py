"""API tokens (issue 13): personal and service (team-scoped) tokens, expiry, revocation,
attribution in the audit trail, the tokens API and page, and who may issue which."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken
from governance.accounts.services import TokenError, token_issue, token_revoke
from governance.approvals.models import PromotionRequest
from governance.audit.models import AuditEvent
from governance.audit.sentences import event_sentence
from tests.factories import bulk_requests, grant, make_model, make_version

pytestmark = pytest.mark.django_db


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _soon(days: int = 30):
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def world(team, other_team, alice):
    """alice: model owner of credit (team admin there) and of marketing; a model in each."""
    grant(alice, "model_owner", team=other_team)
    credit = make_model("credit-scoring", team=team)
    marketing = make_model("churn", team=other_team)
    return {"credit": credit, "marketing": marketing, "v_credit": make_version(credit, alice)}


def test_last_used_is_kept_to_the_minute_without_a_write_per_call(alice, world):
    token, key = token_issue(actor=alice, user=alice, name="ci", via="web")
    client = _client(key)
    assert client.get("/api/v1/models/").status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=30)
    assert client.get("/api/v1/models/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first  # within the minute: not written again
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=5))
    assert client.get("/api/v1/models/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first  # a minute or more later: written


# --- Issuing: who may, what is required -----------------------------------------------------


def test_it_issues_a_personal_token_with_an_optional_expiry(alice):
    token, key = token_issue(actor=alice, user=alice, name="laptop", via="web")
    assert token.expires_at is None and not token.teams.exists() and token.issued_by == alice
    assert key.startswith("gov_") and token.key_hash == ApiToken.hash_key(key)
    token2, _ = token_issue(actor=alice, user=alice, name="ci", via="web", expires_at=_soon(7))
    assert token2.expires_at is not None


def test_a_service_token_needs_teams_admin_rights_and_an_expiry_within_the_limit(alice, bob, team, other_team):
    with pytest.raises(TokenError, match="must expire") as refused:
        token_issue(actor=alice, user=alice, teams=[team], via="api")
    assert refused.value.fields == {"expires_at": ["expires_at: a service token (scoped to teams) must expire."]}
    with pytest.raises(TokenError, match="at most 365 days"):
        token_issue(actor=alice, user=alice, teams=[team], via="api", expires_at=_soon(366))
    with pytest.raises(TokenError, match="in the future"):
        token_issue(actor=alice, user=alice, via="api", expires_at=timezone.now() - timedelta(minutes=1))
    # bob is a reviewer of credit, not one of its admins; alice holds no role on marketing.
    with pytest.raises(PermissionDenied, match="issued by its admins"):
        token_issue(actor=bob, user=bob, teams=[team], via="api", expires_at=_soon())
    with pytest.raises(PermissionDenied, match="team marketing"):
        token_issue(actor=alice, user=alice, teams=[team, other_team], via="api", expires_at=_soon())
    with pytest.raises(PermissionDenied, match="Only admins issue tokens for other people"):
        token_issue(actor=alice, user=bob, via="api")
    assert not ApiToken.objects.exists()
    token, _ = token_issue(actor=alice, user=alice, teams=[team], via="api", expires_at=_soon())
    assert list(token.teams.all()) == [team]


def test_issuing_and_revoking_are_audit_events_in_words(alice, team):
    token, key = token_issue(actor=alice, user=alice, name="ci", teams=[team], via="web", expires_at=_soon())
    issued = AuditEvent.objects.get(action="token.issued")
    assert key not in str(issued.data) and issued.data["teams"] == ["credit"] and issued.data["scope"] == "service"
    day = issued.data["expires_at"][:10]
    assert event_sentence(issued) == (
        f"Alice issued the service token {token.prefix} 'ci' to alice for team credit, expiring {day} (web)."
    )
    assert token_revoke(actor=alice, token=token) is True
    assert token_revoke(actor=alice, token=token) is False  # once
    revoked = AuditEvent.objects.filter(action="token.revoked")
    assert revoked.count() == 1
    assert event_sentence(revoked.get()) == f"Alice revoked the API token {token.prefix} 'ci' of alice."


def test_only_the_owner_an_admin_or_the_teams_admin_revokes(alice, bob, charlie, admin_user, team):
    personal, _ = token_issue(actor=bob, user=bob, via="web")
    with pytest.raises(PermissionDenied):
        token_revoke(actor=charlie, token=personal)
    with pytest.raises(PermissionDenied):
        token_revoke(actor=alice, token=personal)  # a team admin, but this token is bob's personal one
    assert token_revoke(actor=admin_user, token=personal)
    grant(bob, "mlops", team=team)
    service, _ = token_issue(actor=bob, user=bob, teams=[team], via="web", expires_at=_soon())
    assert token_revoke(actor=alice, token=service)  # alice is an admin of the token's team


# --- Using tokens ----------------------------------------------------------------------------


def test_expired_and_revoked_tokens_get_401_saying_so(alice, world):
    token, key = token_issue(actor=alice, user=alice, via="api", expires_at=_soon(1))
    client = _client(key)
    assert client.get("/api/v1/models/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    r = client.get("/api/v1/models/")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_failed"
    assert f"This API token ({token.prefix}) expired on" in r.json()["error"]["message"]
    token2, key2 = token_issue(actor=alice, user=alice, via="api")
    token_revoke(actor=alice, token=token2)
    r = _client(key2).get("/api/v1/models/")
    assert r.status_code == 401 and f"This API token ({token2.prefix}) was revoked on" in r.json()["error"]["message"]
    r = _client("gov_not-a-token").get("/api/v1/models/")
    assert r.status_code == 401 and r.json()["error"]["message"] == "Invalid token."


def test_a_service_token_reaches_only_its_teams_models_though_its_user_has_more(alice, world, team):
    _, personal = token_issue(actor=alice, user=alice, via="api")
    _, scoped = token_issue(actor=alice, user=alice, teams=[team], via="api", expires_at=_soon())
    everything = _client(personal).get("/api/v1/models/").json()
    assert {m["name"] for m in everything["results"]} == {"credit-scoring", "churn"}
    service = _client(scoped)
    assert {m["name"] for m in service.get("/api/v1/models/").json()["results"]} == {"credit-scoring"}
    assert service.get("/api/v1/models/churn/").status_code == 404
    assert _client(personal).get("/api/v1/models/churn/").status_code == 200
    assert service.get("/api/v1/models/credit-scoring/").status_code == 200
    # It cannot create a model in the other team either, nor register there.
    r = service.post(
        "/api/v1/models/",
        {"name": "m2", "team": "marketing", "risk_tier": "low", "description": "d"},
        format="json",
    )
    assert r.status_code in (403, 404), r.content
    # The audit trail through the service token: only the token's teams' events.
    events = service.get("/api/v1/audit/").json()["results"]
    assert events and {e["model"] for e in events} <= {"credit-scoring", ""}


def test_a_service_token_never_carries_staff_powers(admin_user, team):
    make_model("credit-scoring", team=team)
    _, personal = token_issue(actor=admin_user, user=admin_user, via="api")
    _, scoped = token_issue(actor=admin_user, user=admin_user, teams=[team], via="api", expires_at=_soon())
    assert _client(personal).get("/api/v1/models/").json()["count"] == 1  # admins see everything
    assert _client(scoped).get("/api/v1/models/").json()["count"] == 0  # no role on credit: nothing
    r = _client(scoped).post("/api/v1/roles/", {"user": "admin", "role": "auditor", "team": "credit"}, format="json")
    assert r.status_code == 403


def test_a_service_token_can_never_decide_on_a_promotion(alice, bob, team, world):
    grant(bob, "mlops", team=team)  # bob is a reviewer and an admin of credit
    request = bulk_requests([world["v_credit"]], alice, required_approvals=[{"role": "reviewer", "count": 1}])[0]
    _, scoped = token_issue(actor=bob, user=bob, teams=[team], via="api", expires_at=_soon())
    decision = {"decision": "approve", "reason": "fine", "risk_class": "low"}
    r = _client(scoped).post(f"/api/v1/promotions/{request.pk}/decisions/", decision, format="json")
    assert r.status_code == 403, r.content
    assert "approvals need a person" in r.json()["error"]["message"]
    assert _client(scoped).get(f"/api/v1/promotions/{request.pk}/").json()["you"]["may_decide"] is False
    _, personal = token_issue(actor=bob, user=bob, via="api")
    r = _client(personal).post(f"/api/v1/promotions/{request.pk}/decisions/", decision, format="json")
    assert r.status_code == 201, r.content
    assert PromotionRequest.objects.get(pk=request.pk).decisions.count() == 1


def test_every_event_a_token_request_writes_names_the_token(alice, team):
    token, key = token_issue(actor=alice, user=alice, name="ci", via="api")
    r = _client(key).post(
        "/api/v1/models/",
        {"name": "from-ci", "team": "credit", "risk_tier": "medium", "description": "d"},
        format="json",
    )
    assert r.status_code == 201, r.content
    event = AuditEvent.objects.get(action="model.created")
    assert event.data["auth"] == {"api_token_id": token.pk, "prefix": token.prefix, "scope": "personal"}
    assert event_sentence(event).endswith(f"(through the API token {token.prefix})")
    service, service_key = token_issue(actor=alice, user=alice, teams=[team], via="api", expires_at=_soon())
    _client(service_key).post(
        "/api/v1/models/",
        {"name": "from-svc", "team": "credit", "risk_tier": "medium", "description": "d"},
        format="json",
    )
    event = AuditEvent.objects.filter(action="model.created").last()
    assert event.model_name == "from-svc" and event.data["auth"]["api_token_id"] == service.pk
    assert event.data["auth"]["scope"] == "service"
    # A browser (session) request names no token, and the chain still verifies.
    from governance.audit.services import audit_verify

    assert audit_verify().ok


# --- The tokens API ------------------------------------------------------------------------


def test_the_api_lists_issues_once_and_revokes_the_callers_tokens(alice, bob, team):
    _, key = token_issue(actor=alice, user=alice, name="bootstrap", via="web")
    token_issue(actor=bob, user=bob, name="bobs", via="web")
    client = _client(key)
    r = client.post(
        "/api/v1/tokens/",
        {"name": "credit-ci", "teams": ["credit"], "expires_at": _soon(90).isoformat()},
        format="json",
    )
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["key"].startswith("gov_") and created["scope"] == "service" and created["teams"] == ["credit"]
    assert r["Cache-Control"] == "no-store"
    listing = client.get("/api/v1/tokens/").json()
    assert listing["count"] == 2 and {t["name"] for t in listing["results"]} == {"bootstrap", "credit-ci"}
    assert all("key" not in t for t in listing["results"])  # never again
    assert created["key"] not in str(listing)
    # The new key works, and only on credit.
    assert _client(created["key"]).get("/api/v1/models/").status_code == 200
    r = client.delete(f"/api/v1/tokens/{created['id']}/")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert _client(created["key"]).get("/api/v1/models/").status_code == 401
    bobs = ApiToken.objects.get(name="bobs")
    assert client.delete(f"/api/v1/tokens/{bobs.pk}/").status_code == 404  # not hers
    assert ApiToken.objects.get(pk=bobs.pk).revoked_at is None


def test_the_api_refuses_bad_tokens_clearly(alice, team):
    _, key = token_issue(actor=alice, user=alice, via="web", expires_at=_soon(10))
    client = _client(key)
    cases = [
        ({"name": "x", "teams": ["credit"]}, "expires_at"),
        ({"name": "x", "teams": ["ghost"], "expires_at": _soon().isoformat()}, "teams"),
        ({"name": "x" * 101}, "name"),
        ({"name": "x", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "never"}, "expires_at"),  # an expiring token cannot make a longer-lived one
        ({"name": "later", "expires_at": _soon(20).isoformat()}, "expires_at"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/tokens/", body, format="json")
        assert r.status_code == 400, (body, r.content)
        assert field in r.json()["error"]["fields"], (body, r.json())
    assert ApiToken.objects.count() == 1
    assert client.post("/api/v1/tokens/", {"expires_at": _soon(5).isoformat()}, format="json").status_code == 201


def test_a_service_token_issues_no_tokens(alice, team):
    _, scoped = token_issue(actor=alice, user=alice, teams=[team], via="api", expires_at=_soon())
    r = _client(scoped).post("/api/v1/tokens/", {"name": "escape", "expires_at": _soon(5).isoformat()}, format="json")
    assert r.status_code == 403 and "cannot issue tokens" in r.json()["error"]["message"]
    assert ApiToken.objects.count() == 1


# --- The page ------------------------------------------------------------------------------


def test_the_page_issues_shows_the_key_once_lists_and_revokes(client, alice, team):
    client.force_login(alice)
    page = client.get("/tokens/")
    assert page.status_code == 200 and b"You have no API tokens yet." in page.content
    assert b'href="/tokens/"' in page.content  # in the user menu
    day = (timezone.now() + timedelta(days=30)).date()
    r = client.post("/tokens/", {"name": "credit CI", "expires": day.isoformat(), "teams": [team.pk]})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    key = r.content.decode().split("data-key")[1].split(">")[1].split("<")[0]
    assert token.key_hash == ApiToken.hash_key(key)
    again = client.get("/tokens/").content.decode()
    assert key not in again and token.prefix in again and "credit" in again and "never" in again
    assert _client(key).get("/api/v1/models/").status_code == 200
    r = client.post(f"/tokens/{token.pk}/revoke/")
    assert r.status_code == 302
    assert "revoked" in client.get("/tokens/").content.decode()
    assert _client(key).get("/api/v1/models/").status_code == 401


def test_the_page_refuses_a_service_token_without_expiry_and_other_peoples_revokes(client, alice, bob, team):
    client.force_login(alice)
    r = client.post("/tokens/", {"name": "x", "teams": [team.pk]})
    assert r.status_code == 400 and b"must expire" in r.content
    assert not ApiToken.objects.exists()
    bobs, _ = token_issue(actor=bob, user=bob, via="web")
    assert client.post(f"/tokens/{bobs.pk}/revoke/").status_code == 403
    client.force_login(bob)  # bob administers no team: no team choice offered
    assert b"Limit to teams" not in client.get("/tokens/").content


def test_sentences_for_token_events_read_well():
    from tests.audit.test_sentences import _event

    event = _event(
        "token.issued",
        {"user": "ci", "prefix": "gov_abc", "name": "n", "via": "api", "scope": "service", "teams": ["a", "b"]},
        object_type="accounts.apitoken",
        actor_label="ana",
    )
    assert event_sentence(event) == "Ana issued the service token gov_abc 'n' to ci for teams a, b (api)."
