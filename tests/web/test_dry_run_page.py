"""The version's dry-run page (issue 13): a POST asks the worker, the page shows its result;
a GET computes nothing; auditors may not; throttled like the API."""

from __future__ import annotations

import pytest
from django.test import override_settings

from governance.gates.models import DryRun
from governance.policies.services import policy_publish
from tests.conftest import wait_for
from tests.factories import grant, make_user

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = """
name: later
applies_to: {models: [credit-scoring]}
transitions:
  staging->production:
    gates: [{id: docs, type: documentation, require: [model_card]}]
    approvals: [{role: risk_officer}]
"""
PAGE = "/models/credit-scoring/v1/dry-run/"


@pytest.mark.worker
@override_settings(DRY_RUN_SYNC_WAIT_SECONDS=30)
def test_a_draft_version_dry_runs_a_later_transition_on_the_worker(client, bob, version, celery_worker):
    policy_publish(text=POLICY)
    client.force_login(bob)
    detail = client.get("/models/credit-scoring/v1/").content.decode()
    assert f'<form method="post" action="{PAGE}">' in detail
    r = client.post(PAGE, {"transition": "staging->production"})
    assert r.status_code == 302
    run = DryRun.objects.get()
    assert r["Location"] == f"{PAGE}?run={run.pk}"
    page = wait_for(
        lambda: (p := client.get(r["Location"]).content.decode()) and "data-dry-run-status" not in p and p,
        timeout=60,
        message="the dry run's result",
    )
    assert "would not pass" in page and "model_card" in page
    assert DryRun.objects.get().verdict == "fail"


def test_a_get_computes_nothing_and_auditors_may_not_run_one(client, version, team):
    policy_publish(text=POLICY)
    auditor = make_user("audrey")
    grant(auditor, "auditor", team=team)
    client.force_login(auditor)
    page = client.get(f"{PAGE}?transition=staging-%3Eproduction")
    assert page.status_code == 200 and b"Dry runs are for the model" in page.content
    assert b"Dry runs are for the model" in client.get("/models/credit-scoring/v1/").content
    assert client.post(PAGE, {"transition": "staging->production"}).status_code == 403
    assert not DryRun.objects.exists()


@override_settings(DRY_RUN_THROTTLE_RATE="1/minute", DRY_RUN_SYNC_WAIT_SECONDS=0)
def test_the_page_is_throttled_like_the_api(client, bob, version, stopped_celery_worker):
    from tests.gates.test_dry_run import _forget_throttle

    _forget_throttle(bob)
    client.force_login(bob)
    assert client.post(PAGE, {"transition": "staging->production"}).status_code == 302
    r = client.post(PAGE, {"transition": "staging->production"})
    assert r.status_code == 429 and 0 < int(r["Retry-After"]) <= 60
    assert b"try again in" in r.content
    assert DryRun.objects.count() == 1
