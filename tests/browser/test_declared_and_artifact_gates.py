"""Issue 12 on the request page, in headless Chromium: a declared_metrics gate that refuses
the team's reported AUC, and a reproducibility gate whose artifact the worker cannot reach
(a warning, not a failure). Real pieces: the live server, PostgreSQL, the Celery worker on
Redis, Debian's Chromium. Set SCREENSHOT_DIR to keep a screenshot of the gate panel."""

from __future__ import annotations

import io
import json
import os
import time

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from governance.approvals.models import PromotionRequest
from governance.approvals.services import promotion_request
from governance.policies.services import policy_publish
from tests.factories import PASSWORD, grant, make_model, make_team, make_user, make_version, predictions_csv, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]

POLICY = """
name: browser-numbers
applies_to: {models: [numbers-web]}
transitions:
  staging->production:
    gates:
      - {id: lineage, type: reproducibility}
      - {id: reported_numbers, type: declared_metrics, metrics: [auc]}
    approvals: [{role: risk_officer}]
"""


def test_the_request_page_shows_the_declared_numbers_refused_and_the_artifact_warning(
    live_server, celery_worker, browser_page
):
    team = make_team("numbers-web")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    version = make_version(
        make_model("numbers-web", team=team), owner, stage="staging", artifact_uri="gs://registry/numbers/model.bin"
    )
    table = predictions_csv(1500, quality=1.4)
    upload(owner, version, "predictions", table, "predictions.csv")
    upload(owner, version, "metrics", json.dumps({"auc": 0.81, "ks": 0.5}).encode(), "metrics.json")
    policy_publish(text=POLICY)
    request = promotion_request(user=owner, version=version, to_stage="production", justification="browser")
    deadline = time.monotonic() + 90
    while PromotionRequest.objects.get(pk=request.pk).status == "awaiting_gates":
        assert time.monotonic() < deadline, "gates did not finish"
        time.sleep(0.3)
    data = np.genfromtxt(io.BytesIO(table), delimiter=",", names=True, dtype=None, encoding="utf-8")
    auc_value = roc_auc_score(data["y_true"], data["y_score"])
    auc = f"{auc_value:.3f}"

    page, base = browser_page, live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/requests/{request.pk}/")
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.locator("#gates").screenshot(path=os.path.join(folder, "declared-and-artifact-gates.png"))

    numbers = page.locator("#gate-reported_numbers").inner_text()
    assert numbers.lower().startswith("failed\nreported_numbers\ndeclared metrics · auc")
    assert f"The reported metric does not match the evidence: declared auc 0.81, recomputed {auc} (tolerance 0.02)" in (
        numbers
    )
    assert "upload a corrected metrics file" in numbers  # what to do next
    lineage = page.locator("#gate-lineage").inner_text()
    assert lineage.lower().startswith("passed\nlineage\nreproducibility")
    assert "warning: artifact_sha256 unverified: the product cannot fetch gs:// URIs" in lineage
    warning = page.locator(".callout-warn", has_text="The reported metrics do not match the evidence").inner_text()
    assert f"AUC: 0.81 declared in the metrics file, {float(f'{auc_value:.4g}'):g} recomputed" in warning
