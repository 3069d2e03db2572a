"""The audit page for humans and its CSV export (web /audit.csv and GET /api/v1/audit.csv):
same filters, same scope, streamed, formula-safe, and itself an audit event."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken
from governance.accounts.permissions import audit_scope
from governance.approvals.services import promotion_decide, promotion_request
from governance.audit.exports import COLUMNS, csv_safe
from governance.audit.models import AuditEvent
from governance.audit.selectors import AuditFilters, audit_events
from governance.audit.sentences import event_sentence
from tests.factories import grant, make_model, make_user, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(team, other_team, alice, bob, model):
    """credit-scoring (alice's team): v1 and v2, a request on v2 approved by bob; fraud-model
    (another team): a version by mallory, whose user name starts like a formula."""
    v1 = make_version(model, alice)
    v2 = make_version(model, alice)
    request = promotion_request(
        user=alice, version=v2, to_stage="staging", justification='=HYPERLINK("http://x")', ticket_id="T-1"
    )
    promotion_decide(user=bob, request=request, decision="approve", reason="+1 fine", risk_class="low")
    mallory = make_user("@mallory")
    other = make_model("fraud-model", team=other_team)
    grant(mallory, "model_owner", team=other_team)
    make_version(other, mallory)
    return {"v1": v1, "v2": v2, "request": request, "other": other, "mallory": mallory}


def _api(user) -> APIClient:
    _, key = ApiToken.issue(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def _rows(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames) == COLUMNS
    return list(reader)


def test_csv_safe_neutralises_formulas():
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_safe(cell) == "'" + cell
    assert csv_safe("ok") == "ok" and csv_safe(None) == "" and csv_safe(12) == "12"


def test_the_api_csv_is_the_filtered_events_of_the_users_scope(trail, alice):
    before = AuditEvent.objects.order_by("-seq").first().seq
    response = _api(alice).get("/api/v1/audit.csv", {"model": "credit-scoring", "action": "promotion."})
    assert response.status_code == 200
    rows = _rows(response)
    expected = list(
        audit_events(
            scope=audit_scope(alice), filters=AuditFilters(model="credit-scoring", action="promotion.")
        ).filter(seq__lte=before)
    )
    assert [int(r["seq"]) for r in rows] == [e.seq for e in expected]
    first = rows[0]
    event = expected[0]
    assert first["action"] == "promotion.requested" and first["model"] == "credit-scoring"
    assert first["sentence"] == event_sentence(event)
    assert json.loads(first["data"])["justification"] == '=HYPERLINK("http://x")'  # inside JSON, not a cell start
    assert first["hash"] == event.hash and first["prev_hash"] == event.prev_hash
    assert first["created_at"] == event.created_at.isoformat() and first["object_id"] == str(trail["request"].pk)
    # The export is itself an audit event, with its filters.
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.actor_label == "alice" and exported.seq > before
    assert exported.data["filters"] == {"model": "credit-scoring", "action": "promotion."}
    assert exported.data["via"] == "api"


def test_a_user_outside_a_models_scope_gets_none_of_its_events(trail, alice):
    rows = _rows(_api(alice).get("/api/v1/audit.csv"))
    assert rows and not [r for r in rows if r["model"] == "fraud-model"]
    assert "@mallory" not in {r["actor"] for r in rows}
    assert _api(alice).get("/api/v1/audit.csv", {"model": "fraud-model"}).status_code == 404


def test_cells_that_start_like_a_formula_get_an_apostrophe(trail, admin_user):
    rows = _rows(_api(admin_user).get("/api/v1/audit.csv", {"model": "fraud-model"}))
    assert rows and {r["actor"] for r in rows if r["action"] == "version.registered"} == {"'@mallory"}
    # The sentence starting with the actor's name is neutralised too.
    assert all(r["sentence"].startswith("'@mallory") for r in rows if r["action"] == "version.registered")


def test_the_version_filter_keeps_that_versions_events_and_its_requests(trail, alice):
    rows = _rows(_api(alice).get("/api/v1/audit.csv", {"model": "credit-scoring", "version": "2"}))
    actions = [r["action"] for r in rows]
    assert "version.registered" in actions and "promotion.approved" in actions and "promotion.promoted" in actions
    assert all(r["model"] == "credit-scoring" for r in rows)
    v1_rows = _rows(_api(alice).get("/api/v1/audit.csv", {"model": "credit-scoring", "version": "1"}))
    assert [r["action"] for r in v1_rows] == ["version.registered"]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"since": "2026-02-30"}, "since"),
        ({"until": "not a date"}, "until"),
        ({"version": "2"}, "version"),  # a version number needs its model
        ({"model": "credit-scoring", "version": "99999999999999"}, "version"),
        ({"model": "credit-scoring", "version": "-1"}, "version"),
        ({"actor": "a\x00b"}, "actor"),
        ({"since": "9" * 10000}, "since"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(trail, alice, params, field):
    response = _api(alice).get("/api/v1/audit.csv", params)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_the_page_shows_sentences_raw_records_and_a_csv_link_with_its_filters(client, trail, alice):
    client.force_login(alice)
    page = client.get("/audit/", {"model": "credit-scoring", "action": "promotion."})
    assert page.status_code == 200
    html = page.content.decode()
    approved = AuditEvent.objects.get(action="promotion.approved")
    assert f"Reviewer (tech lead) bob approved request #{trail['request'].pk}: &#x27;+1 fine&#x27; (low)." in html
    assert "<details" in html and approved.hash in html and approved.prev_hash in html
    assert 'href="/audit.csv?model=credit-scoring&amp;action=promotion."' in html
    assert "fraud-model" not in html  # not in the model select either
    assert "&lt;" not in html or "<script>" not in html


def test_the_web_csv_keeps_the_pages_filters(client, trail, alice):
    client.force_login(alice)
    rows = _rows(client.get("/audit.csv", {"model": "credit-scoring", "action": "version.registered"}))
    assert [r["action"] for r in rows] == ["version.registered", "version.registered"]
    assert AuditEvent.objects.get(action="audit.exported").data["via"] == "web"


@pytest.mark.parametrize(
    "params,message",
    [
        ({"until": "2026-13-01"}, "until: expected an ISO 8601 date"),
        ({"model": "fraud-model"}, "model: no model named"),
        ({"version": "abc", "model": "credit-scoring"}, "version: a version number"),
    ],
)
def test_a_bad_filter_on_the_page_is_a_400_with_its_message(client, trail, alice, params, message):
    client.force_login(alice)
    for path in ("/audit/", "/audit.csv"):
        response = client.get(path, params)
        assert response.status_code == 400
        assert message in response.content.decode()


def test_user_text_is_escaped_on_the_page(client, alice, model):
    version = make_version(model, alice)
    promotion_request(user=alice, version=version, to_stage="staging", justification="<script>alert(1)</script>")
    client.force_login(alice)
    html = client.get("/audit/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_date_alone_as_until_includes_that_day(trail, alice):
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    rows = _rows(_api(alice).get("/api/v1/audit.csv", {"since": today, "until": today, "model": "credit-scoring"}))
    assert rows


@pytest.mark.parametrize(
    "params",
    [{"model": "\x00"}, {"version": "1" * 5000, "model": "credit-scoring"}, {"since": "\x00"}, {"action": "x" * 300}],
)
def test_hostile_query_strings_are_400_on_the_page_and_the_csv(client, alice, model, params):
    client.force_login(alice)
    for path in ("/audit/", "/audit.csv", "/api/v1/audit/", "/api/v1/audit.csv"):
        assert client.get(path, params).status_code == 400, path
