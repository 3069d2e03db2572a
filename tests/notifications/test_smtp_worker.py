"""Email for real: the promotion service records events, a real Celery worker sends them
through a real SMTP server (aiosmtpd on 127.0.0.1), and what arrives is read back."""

from __future__ import annotations

import time

import pytest

from governance.approvals.services import promotion_request
from governance.notifications.models import Notification
from governance.notifications.tasks import notification_send_task
from governance.policies.services import policy_publish
from tests.conftest import wait_for
from tests.factories import grant, make_model, make_team, make_user, make_version

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

SITE = "https://governance.example.test"  # the worker's SITE_URL (tests/notifications/conftest.py)
POLICY = """
name: email-flow
applies_to: {models: [credit-risk-scorecard]}
transitions:
  staging->production:
    gates: []
    approvals: [{role: model_owner}, {role: risk_officer}]
"""


def _people():
    team = make_team("credit-risk")
    people = {name: make_user(name) for name in ("pipeline", "owner", "risk", "risk2", "outsider")}
    grant(people["pipeline"], "mlops", team=team)
    grant(people["owner"], "model_owner", team=team)
    grant(people["risk"], "risk_officer", team=team)
    grant(people["risk2"], "risk_officer", team=team)
    model = make_model("credit-risk-scorecard", team=team, risk_tier="regulated")
    return people, model


def _result(async_result, timeout: float = 60.0):
    """The task's return value, polled (no result subscription left behind on timeout)."""
    wait_for(async_result.ready, timeout=timeout, message=f"task {async_result.id}")
    return async_result.get(timeout=5)


def test_approval_needed_reaches_each_approver_once_through_smtp(smtp_server, smtp_worker):
    smtp_server.start()
    people, model = _people()
    version = make_version(model, people["pipeline"], stage="staging")  # its author may not decide
    policy_publish(text=POLICY, reason="test")
    request = promotion_request(
        user=people["pipeline"], version=version, to_stage="production", justification="Quarterly refresh, AUC +0.01"
    )
    # Filed with no gates: it waits for approvals at once, and everyone who may fill a slot
    # is told: the model owner and both risk officers; not the pipeline (which registered the
    # version and filed the request), not the outsider.
    wait_for(lambda: len(smtp_server.messages()) >= 3, message="three emails")
    time.sleep(1)  # anything more would arrive now
    received = smtp_server.messages()
    assert sorted(m["X-RcptTo"] for m in received) == ["owner@example.test", "risk2@example.test", "risk@example.test"]
    url = f"{SITE}/requests/{request.pk}/"
    for message in received:
        assert message["To"] == message["X-RcptTo"]
        # Django folds the encoded subject onto a continuation line; unfolded, it starts with
        # the space after "Subject:", which readers drop.
        assert message["Subject"].strip() == (
            f"[Model governance] Approval needed: credit-risk-scorecard v{version.version} "
            f"staging → production (#{request.pk})"
        )
        assert message["From"] == "governance@localhost"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for body in (text, html):
            assert url in body and f"{SITE}/account/notifications/" in body
            assert "Quarterly refresh, AUC +0.01" in body and "pipeline" in body
    rows = list(Notification.objects.filter(request=request, kind="approval_needed"))
    assert len(rows) == 3 and all(r.sent_at is not None and r.attempts == 1 for r in rows)
    assert {m["Message-ID"] for m in received} == {
        f"<governance-notification-{r.pk}@governance.example.test>" for r in rows
    }

    # The same task sent again (a duplicate, a redelivery): it claims nothing, sends nothing.
    assert _result(notification_send_task.delay(rows[0].pk)) == "skipped"
    assert len(smtp_server.messages()) == 3


def test_an_smtp_outage_is_retried_until_the_email_goes(smtp_server, smtp_worker, file_request, bob):
    # The worker points at smtp_server's port, where nothing listens yet.
    request = file_request()
    row = Notification.objects.get(recipient=bob, request=request, kind="approval_needed")

    def failed_once():
        row.refresh_from_db()
        return row.attempts >= 1 and row.last_error

    wait_for(failed_once, timeout=60, message="a failed attempt")
    assert row.sent_at is None and "Connection refused" in row.last_error

    smtp_server.start()
    wait_for(lambda: Notification.objects.get(pk=row.pk).sent_at, timeout=60, message="the retry to send it")
    [message] = smtp_server.messages()
    assert message["X-RcptTo"] == bob.email and f"/requests/{request.pk}/" in message.get_body(("plain",)).get_content()
    row.refresh_from_db()
    assert row.attempts >= 2 and "Connection refused" in row.last_error  # the history of what went wrong
