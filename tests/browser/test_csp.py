"""The pages work under the Content-Security-Policy: no violation reported, charts drawn.

Headless Chromium on Django's live server, a real Celery worker computing the gates whose
charts the request page draws (static/js/charts.js from JSON data blocks, no inline script).
Violations are caught twice: the console's "Content Security Policy" errors and every
`securitypolicyviolation` event, recorded by a script Playwright adds before the page's own.
"""

from __future__ import annotations

import pytest

from governance.approvals.services import promotion_request
from governance.gates.models import GateRun
from governance.policies.services import policy_publish
from governance.reports.services import report_start
from tests.conftest import wait_for
from tests.factories import PASSWORD, attach_full_evidence, grant, make_model, make_team, make_user, make_version

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]

POLICY = """
name: csp
applies_to: {models: [csp-model]}
transitions:
  staging->production:
    gates:
      - {id: auc, type: performance, metric: auc, max_drop: 0.05}
      - {id: p95, type: latency, percentile: 95, max_ms: 150}
      - {id: docs, type: documentation}
    approvals: [{role: risk_officer}]
"""

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


def _script_src(header: str) -> str:
    return next(part.strip() for part in header.split(";") if part.strip().startswith("script-src"))


def test_the_pages_work_under_the_policy(live_server, stopped_celery_worker, browser_page):
    team = make_team("csp")
    owner, risk = make_user("owner"), make_user("risk")
    grant(owner, "model_owner", team=team)
    grant(risk, "risk_officer", team=team)
    model = make_model("csp-model", team=team, risk_tier="high")
    version = make_version(model, owner, stage="staging")
    attach_full_evidence(owner, version, n=1500)
    policy_publish(text=POLICY)
    # No worker yet: the request page opens with its gates pending; their charts arrive with
    # the panel's refresh (an htmx swap while gates still run, or the reload once all are done).
    request = promotion_request(user=owner, version=version, to_stage="production", justification="csp test")

    page, base = browser_page, live_server.url
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(RECORD_VIOLATIONS)

    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "risk")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/requests/{request.pk}/")
    assert page.locator("#gates").inner_text().lower().count("pending") >= 3
    stopped_celery_worker.start()
    page.wait_for_selector("#gates .plot-container svg.main-svg", timeout=60_000)
    assert page.evaluate("window.__cspViolations") == []
    assert console_errors == []
    wait_for(
        lambda: not GateRun.objects.filter(request=request, status__in=["pending", "running"]).exists(),
        message="the gates to finish",
    )
    report = report_start(user=risk, scope="request", request=request)

    for path in ["/", f"/requests/{request.pk}/", "/audit/", f"/reports/{report.pk}/"]:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        header = response.headers.get("content-security-policy", "")
        assert _script_src(header) == "script-src 'self'", (path, header)
        page.wait_for_load_state("networkidle")
        if path.startswith("/requests/"):
            page.wait_for_selector("#gates .plot-container svg.main-svg", timeout=15_000)
            assert page.locator("#gates .plotly-chart .plot-container").count() >= 2  # performance and latency
            charts = page.locator("#gates .plotly-chart")
            assert page.locator("#gates .plotly-chart[data-drawn]").count() == charts.count()
            # Content htmx swaps in is drawn too (the live gate panel's path), still without a violation.
            page.evaluate(
                """() => {
                  const figure = document.querySelector('#gates .plotly-chart script.plotly-figure').outerHTML;
                  const html = '<div class="plotly-chart" id="swapped"><div class="plotly-graph-div"></div>'
                    + figure + '</div>';
                  htmx.swap(document.querySelector('#gates'), html, {swapStyle: 'beforeend'});
                }"""
            )
            page.wait_for_selector("#swapped .plot-container svg.main-svg", timeout=10_000)
        assert page.evaluate("window.__cspViolations") == [], path
        assert console_errors == [], path

    # Every other page a risk officer opens, the chart pages among them (evidence charts, the
    # history timeline): under the same policy, no violation, every chart on them drawn.
    artifacts = list(version.artifacts.values_list("pk", flat=True))
    assert artifacts
    others = [
        "/models/",
        f"/models/{model.name}/",
        f"/models/{model.name}/history/",
        f"/models/{model.name}/v{version.version}/",
        f"/models/{model.name}/v{version.version}/model-card/",
        *(f"/models/{model.name}/v{version.version}/evidence/{pk}/" for pk in artifacts),
        "/policies/",
        "/policies/csp/",
        "/tokens/",
        "/reports/",
    ]
    drawn_pages = 0
    for path in others:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert _script_src(response.headers.get("content-security-policy", "")) == "script-src 'self'", path
        page.wait_for_load_state("networkidle")
        charts = page.locator(".plotly-chart")
        if charts.count():
            page.wait_for_function(
                "() => document.querySelectorAll('.plotly-chart[data-drawn]').length"
                " === document.querySelectorAll('.plotly-chart').length",
                timeout=15_000,
            )
            drawn_pages += 1
        assert page.evaluate("window.__cspViolations") == [], path
        assert console_errors == [], path
    assert drawn_pages >= 2, "the evidence pages draw their charts"

    # The listener works and the policy bites: an injected inline script is refused and reported.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.head.appendChild(s); }"
    )
    page.wait_for_function("() => window.__cspViolations.length > 0", timeout=5_000)
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("window.__cspViolations")[0].startswith("script-src")
