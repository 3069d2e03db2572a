"""A team's MLOps engineer opens "API tokens" from the user menu, issues a service token for
the team, copies the key shown once, uses it, and revokes it. Screenshots go to
$TOKEN_SCREENSHOTS (if set) for a person to look at."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from governance.accounts.models import ApiToken
from governance.accounts.services import token_issue
from tests.factories import PASSWORD, grant, make_model, make_team, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _shot(page, name: str) -> None:
    folder = os.environ.get("TOKEN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_issue_copy_use_and_revoke_a_service_token(live_server, browser_page):
    credit, fraud = make_team("credit"), make_team("fraud")
    mo = make_user("mo", first_name="Mo", last_name="Ops")
    grant(mo, "mlops", team=credit)
    grant(mo, "reviewer", team=fraud)
    make_model("credit-scoring", team=credit)
    make_model("fraud-check", team=fraud)
    token_issue(actor=mo, user=mo, name="laptop", via="web")  # an older personal token
    old = ApiToken.objects.get()
    ApiToken.objects.filter(pk=old.pk).update(last_used_at=timezone.now() - timedelta(hours=3))
    page, base = browser_page, live_server.url

    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "mo")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("header >> text=API tokens")
    assert page.url.endswith("/tokens/")
    # Only credit, where mo is an admin (mlops on the team), may scope a token.
    assert page.locator("input[name=teams]").count() == 1
    page.fill("input[name=name]", "credit-scoring CI")
    page.fill("input[name=expires]", (timezone.now() + timedelta(days=90)).date().isoformat())
    page.check("input[name=teams]")
    page.click("text=Issue token")

    key = page.locator("[data-key]").inner_text().strip()
    assert key.startswith("gov_")
    _shot(page, "1-token-shown-once")
    models = httpx.get(f"{base}/api/v1/models/", headers={"Authorization": f"Token {key}"}, timeout=30).json()
    assert [m["name"] for m in models["results"]] == ["credit-scoring"]  # not fraud-check

    page.goto(f"{base}/tokens/")
    assert key not in page.content(), "the key is shown once"
    row = page.locator(f"tr[data-token='{key[:12]}']")
    assert "service credit" in row.inner_text() and "active" in row.inner_text()
    _shot(page, "2-token-list")
    row.locator("text=Revoke").click()
    assert "no longer works" in page.locator(".messages, [role=status], main").first.inner_text()
    assert "revoked" in page.locator(f"tr[data-token='{key[:12]}']").inner_text()
    _shot(page, "3-after-revoke")
    denied = httpx.get(f"{base}/api/v1/models/", headers={"Authorization": f"Token {key}"}, timeout=30)
    assert denied.status_code == 401 and "was revoked" in denied.json()["error"]["message"]
