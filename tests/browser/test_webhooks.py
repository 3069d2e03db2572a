"""A team's MLOps engineer registers a webhook in the browser, copies the secret shown once,
and follows the delivery log while the real worker sends a signed event that the receiver
first refuses (500) and then accepts; then redelivers it by hand. Screenshots of each page
go to $WEBHOOK_SCREENSHOTS (if set) for a person to look at."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from governance.approvals.services import promotion_request
from governance.webhooks.models import Delivery
from tests.conftest import wait_for
from tests.factories import PASSWORD, grant, make_model, make_team, make_user, make_version
from tests.webhooks.conftest import receiver  # noqa: F401  (the real HTTP receiver fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]


def _shot(page, name: str) -> None:
    folder = os.environ.get("WEBHOOK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_register_copy_the_secret_watch_retries_and_redeliver(live_server, celery_worker, browser_page, receiver):  # noqa: F811
    team = make_team("credit")
    mo, owner = make_user("mo", first_name="Mo", last_name="Ops"), make_user("alice")
    grant(mo, "mlops", team=team)
    grant(owner, "model_owner", team=team)
    version = make_version(make_model("credit-scoring", team=team), owner)
    page, base = browser_page, live_server.url

    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "mo")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=Webhooks")
    assert page.url.endswith("/teams/credit/webhooks/")
    page.fill("input[name=url]", receiver.url)
    for box in page.locator("input[name=events]").all():
        box.uncheck()
    page.check("input[name=events][value='request.created']")
    page.check("input[name=events][value='decision.made']")
    page.fill("input[name=description]", "CI gate job")
    _shot(page, "1-new-webhook-form")
    page.click("text=Create webhook")

    secret = page.locator("[data-secret]").inner_text().strip()
    assert secret.startswith("whsec_")
    _shot(page, "2-secret-shown-once")
    receiver.secret = secret
    receiver.script = [500, 200]
    page.reload()
    assert page.locator("[data-secret]").count() == 0, "the secret is shown once"

    request = promotion_request(user=owner, version=version, to_stage="staging", justification="better AUC")
    got = receiver.wait_for(2)
    assert [r.verified for r in got] == [True, True]
    assert json.loads(got[1].body)["data"]["request"]["id"] == request.pk
    delivery = wait_for(lambda: Delivery.objects.filter(status="delivered").first(), message="delivered")
    page.reload()
    row = page.locator(f"[data-delivery='{delivery.pk}']")
    assert "delivered" in row.inner_text() and "200" in row.inner_text()
    _shot(page, "3-delivery-log")

    row.locator("a").first.click()
    attempts = page.locator("[data-attempt]")
    assert attempts.count() == 2
    assert "500" in attempts.nth(0).inner_text() and "answer 500" in attempts.nth(0).inner_text()
    assert "200" in attempts.nth(1).inner_text()
    _shot(page, "4-delivery-detail")
    page.click("text=Redeliver")
    assert re.search(r"Event sent again as delivery #\d+", page.content())
    got = receiver.wait_for(3)
    assert got[2].verified and got[2].headers["X-Governance-Event-Id"] == got[0].headers["X-Governance-Event-Id"]
    wait_for(lambda: Delivery.objects.filter(status="delivered").count() == 2, message="redelivered")
    page.reload()
    _shot(page, "5-redelivery")
    page.goto(f"{base}/teams/credit/webhooks/")
    assert "CI gate job" in page.content()
    _shot(page, "6-team-list")
