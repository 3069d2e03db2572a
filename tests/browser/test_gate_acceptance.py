"""A risk officer accepts an inconclusive gate on the request page, in headless Chromium.

Real pieces: the live server, PostgreSQL, a Celery worker on Redis that computes the latency
gate (40 rows: below the 72 its upper bound needs, so inconclusive), Debian's Chromium.
Set SCREENSHOT_DIR to keep screenshots of the gate panel before and after.
"""

from __future__ import annotations

import os
import time

import pytest

from governance.approvals.models import GateAcceptance, PromotionRequest
from governance.approvals.services import promotion_request
from governance.notifications.models import Notification
from governance.policies.services import policy_publish
from tests.factories import PASSWORD, grant, make_model, make_team, make_user, make_version, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]

POLICY = """
name: browser-accept
applies_to: {models: [accept-web]}
transitions:
  staging->production:
    gates:
      - id: p95
        type: latency
        percentile: 95
        max_ms: 150
        use_upper_confidence_bound: true
        on_inconclusive: {accept_by: risk_officer}
    approvals: [{role: compliance_officer}]
"""


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_url(f"{base}/")


def _shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.locator("#gates").screenshot(path=os.path.join(folder, name))


def _wait_for_status(request, status: str, timeout: float = 60) -> PromotionRequest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        request = PromotionRequest.objects.get(pk=request.pk)
        if request.status == status:
            return request
        time.sleep(0.3)
    raise AssertionError(f"request stayed {request.status}: {request.status_reason}")


def test_a_risk_officer_accepts_an_inconclusive_gate_on_the_request_page(live_server, celery_worker, browser_page):
    team = make_team("accept-web")
    owner, compliance = make_user("owner"), make_user("cora")
    risk = make_user("rita", first_name="Rita", last_name="Risk")
    grant(owner, "model_owner", team=team)
    grant(risk, "risk_officer", team=team)
    grant(compliance, "compliance_officer", team=team)
    version = make_version(make_model("accept-web", team=team), owner, stage="staging")
    upload(
        owner, version, "latency", ("latency_ms\n" + "".join(f"{20 + i % 7}\n" for i in range(40))).encode(), "l.csv"
    )
    policy_publish(text=POLICY)
    request = promotion_request(user=owner, version=version, to_stage="production", justification="browser")
    request = _wait_for_status(request, "awaiting_approvals")
    assert request.status_reason.startswith("Gates inconclusive, awaiting acceptance: p95 (needs at least 72")

    page, base = browser_page, live_server.url
    # The requester sees who may accept, and no form.
    _login(page, base, "owner")
    page.goto(f"{base}/requests/{request.pk}/")
    gate = page.locator("#gate-p95")
    assert "Inconclusive: the data cannot tell" in gate.inner_text()
    assert "at least 72 latency rows (32 more)" in gate.inner_text()
    assert "Who may accept it: Rita Risk" in gate.inner_text()
    assert page.locator("form.accept-form").count() == 0
    assert "You cannot accept it: You requested this promotion" in gate.inner_text()
    _shot(page, "gate-accept-requester.png")
    page.context.clear_cookies()

    _login(page, base, "rita")
    page.goto(f"{base}/requests/{request.pk}/")
    _shot(page, "gate-accept-before.png")
    form = page.locator("#gate-p95 form.accept-form")
    assert form.count() == 1
    assert form.locator("input[name=csrfmiddlewaretoken]").count() == 1
    # A blank reason (spaces pass the browser's own check) is refused on the form, nothing written.
    form.locator("textarea[name=reason]").fill("   ")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    assert "Say why you accept this inconclusive outcome." in page.locator("#gate-p95").inner_text()
    assert not GateAcceptance.objects.exists()

    form = page.locator("#gate-p95 form.accept-form")
    form.locator("textarea[name=reason]").fill("p95 is 26 ms against a 150 ms limit; 40 rows are enough for us.")
    form.locator("input[name=ticket_id]").fill("RISK-12")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/requests/{request.pk}/")
    text = page.locator("#gate-p95").inner_text()
    assert "accepted" in text and "by Rita Risk (risk officer)" in text and "ticket RISK-12" in text
    assert "40 rows are enough for us." in text
    assert page.locator("#gate-p95 form.accept-form").count() == 0
    assert "You accepted the inconclusive gate p95." in page.content()
    _shot(page, "gate-accept-after.png")

    acceptance = GateAcceptance.objects.get()
    assert (acceptance.user, acceptance.gate_id, acceptance.ticket_id) == (risk, "p95", "RISK-12")
    request.refresh_from_db()
    assert request.status == "awaiting_approvals" and request.status_reason.startswith("All gates passed or were")
    assert Notification.objects.filter(request=request, kind="approval_needed", recipient=compliance).exists()
