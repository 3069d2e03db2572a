"""The interactive API docs (/api/docs/): Swagger UI from our own static files, under the CSP.

Headless Chromium on Django's live server. The page lists the API's operations from
/api/schema/, with `script-src 'self'` and not one CSP violation (the init script is a
separate file, SpectacularSwaggerSplitView); "Try it out" calls the API with the session.
Anonymous visitors are sent to the sign-in page.
"""

from __future__ import annotations

import os

import pytest

from tests.factories import PASSWORD, grant, make_model, make_team, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


def test_swagger_ui_lists_the_operations_under_the_policy(live_server, browser_page):
    team = make_team("docs")
    auditor = make_user("auditor")
    grant(auditor, "auditor", team=team)
    make_model("docs-model", team=team)

    page, base = browser_page, live_server.url
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.add_init_script(RECORD_VIOLATIONS)

    # Anonymous: the sign-in page, then back to the docs.
    page.goto(f"{base}/api/docs/")
    assert page.url.startswith(f"{base}/login/?next=/api/docs/")
    page.fill("input[name=username]", "auditor")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_url(f"{base}/api/docs/")

    response = page.goto(f"{base}/api/docs/")
    failed.clear()  # the first load's schema fetch, aborted by this reload
    assert response.status == 200
    header = response.headers.get("content-security-policy", "")
    script_src = next(p.strip() for p in header.split(";") if p.strip().startswith("script-src"))
    assert script_src == "script-src 'self'"
    page.wait_for_selector(".opblock", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    for expected in ["/api/v1/models/", "/api/v1/models/{name}/versions/", "/api/v1/promotions/{id}/decisions/"]:
        assert any(p.replace("\u200b", "") == expected for p in paths), (expected, paths[:10])
    # Every asset came from this server (the sidecar's static files), none from a CDN.
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert scripts and all(s.startswith(base) for s in scripts), scripts
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in s for s in scripts)
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "api-docs-top.png"))

    # "Try it out" on GET /api/v1/models/ answers with the session: the auditor's model.
    block = page.locator(".opblock-get", has=page.locator(".opblock-summary-path[data-path='/api/v1/models/']"))
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=10_000)
    assert status.inner_text().strip() == "200"
    assert "docs-model" in block.locator(".live-responses-table tbody .microlight").first.inner_text()

    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "api-docs.png"), full_page=False)
    assert page.evaluate("window.__cspViolations") == []
    assert console_errors == []
    assert failed == []


def test_the_user_menu_links_to_the_docs(live_server, browser_page):
    make_user("someone")
    page, base = browser_page, live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "someone")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_url(f"{base}/")
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "nav-api-docs.png"))
    page.click(".nav-user a:has-text('API docs')")
    page.wait_for_url(f"{base}/api/docs/")
    page.wait_for_selector(".opblock", timeout=20_000)
