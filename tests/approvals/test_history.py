"""Production history (time travel): who served at T, from recorded facts (approvals/history.py),
through the API contract and the history page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken
from governance.approvals.history import production_tenures, served_at
from governance.approvals.services import promotion_decide, promotion_request, promotion_rollback
from governance.policies.services import policy_publish
from tests.factories import grant, make_user, make_version, upload

pytestmark = pytest.mark.django_db

CONTRACT_KEYS = {
    "model",
    "at",
    "version",
    "since",
    "until",
    "request_id",
    "change_type",
    "approvals",
    "evidence",
    "policy",
}
POLICY = """
name: history-{model}
applies_to: {{models: [{model}]}}
transitions:
  staging->production:
    gates: []
    approvals: [{{role: risk_officer}}]
"""


def _promote(alice, risk, version, ticket: str):
    request = promotion_request(
        user=alice, version=version, to_stage="production", justification="better AUC", ticket_id=ticket
    )
    promotion_decide(
        user=risk,
        request=request,
        decision="approve",
        reason="reviewed the evidence",
        risk_class="medium",
        ticket_id=ticket,
    )
    request.refresh_from_db()
    assert request.status == "promoted"
    return request


@pytest.fixture
def story(team, alice, model, admin_user):
    """v1 promoted, then v2 promoted, then rolled back to v1; moments between the steps."""
    ana = make_user("ana", first_name="Ana")
    grant(ana, "risk_officer", team=team)
    policy = policy_publish(text=POLICY.format(model=model.name), author=admin_user, reason="test")
    v1, v2 = make_version(model, alice, stage="staging"), make_version(model, alice, stage="staging")
    upload(alice, v1, "metrics", b'{"auc": 0.81}', "metrics.json")
    moments = {"before": timezone.now()}
    r1 = _promote(alice, ana, v1, "RISK-201")
    moments["between"] = timezone.now()
    r2 = _promote(alice, ana, v2, "RISK-202")
    moments["v2"] = timezone.now()
    promotion_rollback(user=alice, model=model, reason="latency regression", ticket_id="INC-7")
    moments["after"] = timezone.now()
    return {"model": model, "v1": v1, "v2": v2, "r1": r1, "r2": r2, "policy": policy, "at": moments}


def test_before_the_first_promotion_nothing_served(story):
    answer = served_at(story["model"], story["at"]["before"])
    assert set(answer) == CONTRACT_KEYS
    assert answer["version"] is None and answer["request_id"] is None and answer["approvals"] == []
    assert answer["since"] is None and answer["until"] is not None  # the first promotion


def test_between_two_promotions_the_first_version_served(story):
    answer = served_at(story["model"], story["at"]["between"])
    assert set(answer) == CONTRACT_KEYS
    assert answer["version"] == story["v1"].version
    assert answer["request_id"] == story["r1"].pk and answer["change_type"] == "standard"
    assert answer["until"] is not None  # v2 replaced it
    assert [(a["user"], a["role"], a["ticket_id"], a["reason"]) for a in answer["approvals"]] == [
        ("ana", "risk_officer", "RISK-201", "reviewed the evidence")
    ]
    assert answer["evidence"] and answer["evidence"][0]["kind"] == "metrics"
    assert len(answer["evidence"][0]["sha256"]) == 64
    assert answer["policy"] == {"name": story["r1"].policy_name, "sha256": story["r1"].policy_sha256}
    assert answer["policy"]["sha256"]


def test_after_a_rollback_the_version_rolled_back_to_serves_as_a_rollback(story):
    during = served_at(story["model"], story["at"]["v2"])
    assert during["version"] == story["v2"].version and during["request_id"] == story["r2"].pk
    answer = served_at(story["model"], story["at"]["after"])
    assert answer["version"] == story["v1"].version
    assert answer["change_type"] == "rollback"
    assert answer["until"] is None
    # The request that first put v1 in production, with its approvals.
    assert answer["request_id"] == story["r1"].pk and answer["approvals"][0]["ticket_id"] == "RISK-201"
    tenures = production_tenures(story["model"])
    assert [(t.version, t.change_type) for t in tenures] == [(1, "standard"), (2, "standard"), (1, "rollback")]
    assert "latency regression" in tenures[-1].note and "INC-7" in tenures[-1].note


def test_history_does_not_read_current_stages(story):
    """A stage written outside the services (no recorded fact) does not make a tenure."""
    from tests.factories import put_at_stage

    put_at_stage(type(story["v2"]).objects.filter(pk=story["v1"].pk), "archived")
    assert served_at(story["model"], story["at"]["after"])["version"] == story["v1"].version


def _api(user) -> APIClient:
    _, key = ApiToken.issue(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_the_api_answers_the_contract(story, alice):
    api = _api(alice)
    between = story["at"]["between"].isoformat()
    response = api.get(f"/api/v1/models/{story['model'].name}/history/", {"at": between})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CONTRACT_KEYS and body["version"] == 1 and body["model"] == "credit-scoring"
    assert set(body["approvals"][0]) == {"user", "role", "decided_at", "reason", "ticket_id"}
    assert set(body["evidence"][0]) == {"kind", "sha256"} and set(body["policy"]) == {"name", "sha256"}
    now = api.get(f"/api/v1/models/{story['model'].name}/history/").json()  # at defaults to now
    assert now["version"] == 1 and now["change_type"] == "rollback"
    early = api.get(f"/api/v1/models/{story['model'].name}/history/", {"at": "2000-01-01T00:00:00Z"}).json()
    assert early["version"] is None


@pytest.mark.parametrize(
    "at", ["2026-02-30T00:00:00Z", "yesterday", "2026-01-01\x00", "9" * 5000, "99999-01-01", "0001-01-01T00:00+05:00"]
)
def test_a_bad_at_is_a_400_naming_at(story, alice, at):
    response = _api(alice).get(f"/api/v1/models/{story['model'].name}/history/", {"at": at})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["at"]


def test_a_model_out_of_scope_is_a_404(story, charlie):
    assert _api(charlie).get(f"/api/v1/models/{story['model'].name}/history/").status_code == 404


def test_the_page_shows_the_timeline_the_tenures_and_who_served_then(client, story, alice):
    client.force_login(alice)
    at = timezone.localtime(story["at"]["between"] + timedelta(seconds=0)).strftime("%Y-%m-%dT%H:%M:%S.%f")
    page = client.get(f"/models/{story['model'].name}/history/", {"at": at})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="plotly-graph-div"' in html and "vendor/plotly.min.js" in html
    assert html.count("<tr") == 4  # head + three tenures
    assert html.count('class="current-row"') == 1 and "served then" in html
    assert f"request #{story['r1'].pk}" in html and "RISK-201" in html and "rollback" in html
    assert "latency regression" in html
    model_page = client.get(f"/models/{story['model'].name}/").content.decode()
    assert f"/models/{story['model'].name}/history/" in model_page


def test_the_page_says_a_bad_time_on_the_page(client, story, alice):
    client.force_login(alice)
    page = client.get(f"/models/{story['model'].name}/history/", {"at": "2026-13-45T99:00"})
    assert page.status_code == 400 and "at: expected an ISO 8601" in page.content.decode()


def test_a_model_never_in_production_has_an_empty_history_page(client, alice, model):
    client.force_login(alice)
    page = client.get(f"/models/{model.name}/history/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "has been promoted to production yet" in html and "plotly-graph-div" not in html
    assert served_at(model)["version"] is None


@pytest.mark.parametrize("at", ["\x00", "2026-02-30T10:00", "1" * 100000, "-1"])
def test_the_page_answers_bad_times_with_a_400_never_a_500(client, alice, model, at):
    client.force_login(alice)
    assert client.get(f"/models/{model.name}/history/", {"at": at}).status_code == 400
