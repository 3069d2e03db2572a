"""Browser pages through Django's test client: who sees what, forms, refusals, escaping."""

from __future__ import annotations

import pytest

from governance.approvals.models import Decision, PromotionRequest
from governance.approvals.services import promotion_request
from governance.audit.models import AuditEvent
from governance.evidence.services import document_save
from governance.registry.models import ModelVersion
from tests.factories import COMPLETE_DOCUMENTS, grant, make_user, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(alice, bob, version):
    return promotion_request(user=alice, version=version, to_stage="staging", justification="ready for staging")


def test_login_is_required(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/models/",
        "/models/credit-scoring/",
        "/models/credit-scoring/v1/",
        "/models/credit-scoring/v1/model-card/",
        "/models/credit-scoring/v1/documents/model_card/",
        "/models/credit-scoring/v1/dry-run/?transition=draft-%3Estaging",
        "/audit/",
        "/policies/",
    ],
)
def test_pages_render_for_a_team_member(client, bob, pending, path):
    client.force_login(bob)
    response = client.get(path)
    assert response.status_code == 200, response.content[:500]


def test_request_page_shows_slots_and_the_decision_form_to_the_reviewer(client, bob, pending):
    client.force_login(bob)
    page = client.get(f"/requests/{pending.pk}/").content.decode()
    assert "ready for staging" in page and "reviewer" in page
    assert 'name="decision"' in page


def test_the_requester_sees_why_they_cannot_decide(client, alice, pending):
    client.force_login(alice)
    page = client.get(f"/requests/{pending.pk}/").content.decode()
    assert "separation of duties" in page and 'name="decision"' not in page


def test_deciding_in_the_browser_promotes(client, bob, pending):
    client.force_login(bob)
    response = client.post(
        f"/requests/{pending.pk}/decide/",
        {"decision": "approve", "role": "reviewer", "risk_class": "low", "reason": "fine", "ticket_id": "T-1"},
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "promoted"


def test_a_decision_without_a_reason_is_a_form_error(client, bob, pending):
    client.force_login(bob)
    response = client.post(
        f"/requests/{pending.pk}/decide/",
        {"decision": "approve", "role": "reviewer", "risk_class": "low", "reason": ""},
    )
    assert response.status_code == 400 and b"This field is required" in response.content
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    "path,data",
    [
        ("/requests/{pk}/decide/", {"decision": "approve", "risk_class": "low", "reason": "x"}),
        ("/requests/{pk}/cancel/", {"reason": "x"}),
        ("/models/credit-scoring/rollback/", {"reason": "x"}),
        (
            "/models/credit-scoring/v1/promote/",
            {"to_stage": "staging", "change_type": "standard", "justification": "x"},
        ),
        ("/models/credit-scoring/v1/evidence/", {"kind": "metrics"}),
        ("/models/credit-scoring/v1/documents/model_card/", {"intended_use": "x"}),
        ("/policies/new/", {"content": "name: x", "reason": "x"}),
    ],
)
def test_every_write_is_refused_to_someone_without_access(client, charlie, pending, path, data):
    client.force_login(charlie)
    before = (AuditEvent.objects.count(), PromotionRequest.objects.filter(status="awaiting_approvals").count())
    response = client.post(path.format(pk=pending.pk), data)
    assert response.status_code in (403, 404)
    assert (AuditEvent.objects.count(), PromotionRequest.objects.filter(status="awaiting_approvals").count()) == before


def test_an_auditor_reads_but_cannot_write(client, team, pending):
    auditor = make_user("audrey")
    grant(auditor, "auditor", team=team)
    client.force_login(auditor)
    assert client.get(f"/requests/{pending.pk}/").status_code == 200
    assert client.post(f"/requests/{pending.pk}/cancel/", {"reason": "x"}).status_code == 403
    assert (
        client.post("/models/credit-scoring/v1/promote/", {"to_stage": "staging", "justification": "x"}).status_code
        == 403
    )


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil.example></iframe>",
    '"><script>alert(2)</script>',
    "<body onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<object data=javascript:alert(1)></object>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<details open ontoggle=alert(1)>",
    "<a href=' jav&#x09;ascript:alert(1)'>x</a>",
    "<IMG SRC=JaVaScRiPt:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<base href=javascript:alert(1)//>",
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "![x](javascript:alert(1))",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
]


def _assert_inert(html: str) -> None:
    from html.parser import HTMLParser

    class Check(HTMLParser):
        def handle_starttag(self, tag, attrs):
            assert (
                tag not in {"script", "iframe", "object", "embed", "form", "meta", "base", "svg", "math"}
                or tag == "form"
                and ("class", "inline") in attrs
                or tag == "form"
                and dict(attrs).get("method") == "post"
                or tag == "form"  # the page's own search and filter forms
                and dict(attrs).get("role") == "search"
            ), tag
            for name, value in attrs:
                assert not name.startswith("on"), (tag, name, value)
                if name in ("href", "src", "action") and value:
                    cleaned = "".join(ch for ch in value if ch.isprintable() and not ch.isspace()).lower()
                    assert not cleaned.startswith(("javascript:", "vbscript:", "data:text/html")), (tag, name, value)

    Check().feed(html)


@pytest.mark.parametrize("payload", XSS)
def test_xss_in_model_card_and_free_text_renders_inert(client, alice, bob, team, version, payload):
    fields = dict(COMPLETE_DOCUMENTS["model_card"], intended_use=payload, limitations=payload)
    document_save(
        user=alice, version=version, kind="model_card", fields=fields, content=f"# Card\n\n{payload}\n\n{payload}"
    )
    request = promotion_request(
        user=alice,
        version=ModelVersion.objects.get(pk=version.pk),
        to_stage="staging",
        justification=payload,
        ticket_id="T-1",
    )
    client.force_login(bob)
    for path in (f"/models/{version.model.name}/v1/model-card/", f"/requests/{request.pk}/", "/"):
        html = client.get(path).content.decode()
        body = html.split("<main", 1)[-1]  # our own layout scripts live in <head>
        _assert_inert(body)
        assert "<script>alert" not in html


def test_uploaded_html_is_downloaded_never_rendered(client, alice, version):
    artifact = upload(alice, version, "attachment", b"<html><script>alert(1)</script></html>", "report.html")
    client.force_login(alice)
    response = client.get(f"/models/{version.model.name}/v1/evidence/{artifact.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "text/html" not in response["Content-Type"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_admins_grant_and_revoke_roles_in_the_browser(client, admin_user, team, version):
    from governance.accounts.permissions import roles_for_model

    dana = make_user("dana")
    client.force_login(admin_user)
    assert client.get("/roles/").status_code == 200
    response = client.post(
        "/roles/", {"action": "grant", "username": "dana", "role": "risk_officer", "scope": f"team:{team.name}"}
    )
    assert response.status_code == 302
    assert roles_for_model(dana, version.model) == {"risk_officer"}
    assert b"dana" in client.get("/roles/").content
    client.post(
        "/roles/", {"action": "revoke", "username": "dana", "role": "risk_officer", "scope": f"team:{team.name}"}
    )
    assert roles_for_model(dana, version.model) == set()
    assert AuditEvent.objects.filter(action__in=["role.granted", "role.revoked"], data__user="dana").count() == 2
    bad = client.post(
        "/roles/", {"action": "grant", "username": "nobody", "role": "risk_officer", "scope": "team:nope"}
    )
    assert bad.status_code == 400 and b"No user" in bad.content


def test_only_admins_manage_roles(client, alice, team):
    client.force_login(alice)
    assert client.get("/roles/").status_code == 403
    assert (
        client.post(
            "/roles/", {"action": "grant", "username": "alice", "role": "risk_officer", "scope": f"team:{team.name}"}
        ).status_code
        == 403
    )


def test_the_audit_page_shows_my_models_and_policy_publications_only(client, alice, admin_user, version, other_team):
    from governance.policies.services import policy_publish
    from governance.registry.services import model_create

    model_create(user=admin_user, name="secret-model", team=other_team, risk_tier="low")
    assert AuditEvent.objects.filter(model_name="secret-model").exists()
    policy_publish(
        text="name: visible-policy\napplies_to: {risk_tiers: [low]}\ntransitions:\n  draft->staging: {gates: [], approvals: [{role: reviewer}]}\n"
    )
    client.force_login(alice)
    page = client.get("/audit/").content.decode()
    assert "version.registered" in page and "policy.published" in page
    assert "secret-model" not in page
