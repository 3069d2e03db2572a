"""An approver in headless Chromium: live gate updates, then a sign-off that promotes.

Real pieces throughout: Django's live server, PostgreSQL, a Celery worker on Redis and
Debian's Chromium driven by Playwright. With CI=true a missing Chromium is a failure.
"""

from __future__ import annotations

import os

import pytest

from governance.approvals.models import PromotionRequest
from governance.approvals.services import promotion_request
from governance.policies.services import policy_publish
from governance.registry.models import ModelVersion
from tests.factories import PASSWORD, attach_full_evidence, grant, make_model, make_team, make_user, make_version

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]

POLICY = """
name: browser
applies_to: {models: [web-model]}
transitions:
  staging->production:
    gates:
      - {id: auc, type: performance, metric: auc, max_drop: 0.05}
      - {id: p95, type: latency, percentile: 95, max_ms: 150}
      - {id: docs, type: documentation}
    approvals: [{role: risk_officer}]
"""


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_url(f"{base}/")


def test_an_approver_watches_gates_finish_live_and_signs_off(live_server, stopped_celery_worker, browser_page):
    team = make_team("web")
    owner, risk = make_user("owner"), make_user("risk")
    grant(owner, "model_owner", team=team)
    grant(risk, "risk_officer", team=team)
    model = make_model("web-model", team=team, risk_tier="high")
    version = make_version(model, owner, stage="staging")
    attach_full_evidence(owner, version, n=1500)
    policy_publish(text=POLICY)

    # No worker runs yet: the gates wait in the queue, pending, until it starts.
    request = promotion_request(user=owner, version=version, to_stage="production", justification="browser test")

    page = browser_page
    base = live_server.url
    _login(page, base, "risk")
    navigations, polls = [], []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.on("request", lambda r: polls.append(r.url) if "/gates/" in r.url else None)
    page.goto(f"{base}/requests/{request.pk}/")
    assert page.locator("#gates").inner_text().lower().count("pending") >= 3
    navigations.clear()

    stopped_celery_worker.start()
    page.wait_for_function(
        "() => !document.querySelector('#gates').innerText.toLowerCase().includes('pending')", timeout=60_000
    )
    page.wait_for_load_state("networkidle")
    gates_text = page.locator("#gates").inner_text().lower()
    assert gates_text.count("passed") >= 3, gates_text
    assert polls, "the gate panel never polled"
    assert len(navigations) <= 1, f"full page loads while gates ran: {navigations}"  # one final refresh at most

    page.goto(f"{base}/requests/{request.pk}/")
    page.check("input[name=decision][value=approve]")
    page.select_option("select[name=risk_class]", "medium")
    page.fill("input[name=ticket_id]", "RISK-77")
    page.fill("textarea[name=reason]", "Gates pass; latency margin is comfortable.")
    page.click("form[action$='/decide/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "promoted" in page.content().lower()
    request.refresh_from_db()
    assert request.status == "promoted"
    assert ModelVersion.objects.get(pk=version.pk).stage == "production"
    page.screenshot(path=os.path.join(os.environ.get("VAR_DIR", "/tmp"), "browser-request.png"), full_page=True)


def test_the_inbox_shows_the_count_and_links_to_the_request(live_server, browser_page):
    team = make_team("web")
    owner, lead = make_user("owner"), make_user("lead")
    grant(owner, "model_owner", team=team)
    grant(lead, "reviewer", team=team)
    model = make_model("web-model", team=team)
    version = make_version(model, owner)
    request = promotion_request(user=owner, version=version, to_stage="staging", justification="inbox")
    page = browser_page
    _login(page, live_server.url, "lead")
    assert page.locator("nav[aria-label=Main]").inner_text().count("1") >= 1
    page.click(f"text=#{request.pk}")
    page.wait_for_url(f"{live_server.url}/requests/{request.pk}/")
    assert PromotionRequest.objects.get(pk=request.pk).status == "awaiting_approvals"
