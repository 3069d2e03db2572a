"""From the email to the promotion, as two approvers live it: read the "approval needed" email,
follow its link, log in, approve with a reason and a ticket; the second approver does the
same; the page shows the promotion and their inboxes are empty.

The emails are rendered and sent by the same code the Celery task runs (notification_send),
in this process, into Django's locmem outbox: the worker is stopped so that it cannot take
them first (the SMTP round trip through a real worker is tests/notifications/test_smtp_worker.py).
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from governance.approvals.models import PromotionRequest
from governance.approvals.services import promotion_request
from governance.notifications.models import Notification
from governance.notifications.services import notification_send
from governance.policies.services import policy_publish
from tests.factories import PASSWORD, grant, make_model, make_team, make_user, make_version

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]

POLICY = """
name: two-approvers
applies_to: {models: [mail-model]}
transitions:
  staging->production:
    gates: []
    approvals: [{role: risk_officer}, {role: compliance_officer}]
    ticket_pattern: "CHG-[0-9]+"
    ticket_example: CHG-2041
"""


def _email_link_for(user) -> str:
    """Send the user's pending "approval needed" email and return the link it carries."""
    note = Notification.objects.get(recipient=user, kind="approval_needed")
    assert notification_send(notification_id=note.pk) == "sent"
    message = next(m for m in mail.outbox if m.to == [user.email])
    assert "Approval needed" in message.subject
    links = re.findall(r"https?://\S+/requests/\d+/", message.body)
    assert links, message.body
    return links[0]


def _approve_from_email(page, link: str, username: str, ticket: str, reason: str) -> None:
    page.goto(link)  # not logged in: the login page, then back to the request
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(link)
    page.check("input[name=decision][value=approve]")
    page.select_option("select[name=risk_class]", "medium")
    page.fill("input[name=ticket_id]", ticket)
    page.fill("textarea[name=reason]", reason)
    page.click("form[action$='/decide/'] button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_two_approvers_go_from_their_email_to_the_promotion(live_server, stopped_celery_worker, chromium, settings):
    settings.SITE_URL = live_server.url
    team = make_team("mail")
    owner, risk, compliance = make_user("owner"), make_user("risk"), make_user("compliance")
    grant(owner, "model_owner", team=team)
    grant(risk, "risk_officer", team=team)
    grant(compliance, "compliance_officer", team=team)
    model = make_model("mail-model", team=team, risk_tier="high")
    version = make_version(model, owner, stage="staging")
    policy_publish(text=POLICY)
    request = promotion_request(user=owner, version=version, to_stage="production", justification="quarterly")
    request.refresh_from_db()
    assert request.status == "awaiting_approvals"

    for user, ticket in ((risk, "CHG-2041"), (compliance, "CHG-2042")):
        link = _email_link_for(user)
        assert link == f"{live_server.url}/requests/{request.pk}/"
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        _approve_from_email(page, link, user.username, ticket, f"{user.username}: evidence read, ticket {ticket}.")
        assert "Your decision is recorded" in page.content()
        if user is compliance:
            assert "promoted" in page.locator("main").inner_text().lower()
        page.goto(f"{live_server.url}/")
        assert page.locator("[data-inbox-item]").count() == 0
        context.close()

    request = PromotionRequest.objects.get(pk=request.pk)
    assert request.status == "promoted"
    assert sorted(request.decisions.values_list("ticket_id", flat=True)) == ["CHG-2041", "CHG-2042"]
