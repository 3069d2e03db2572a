"""The webhook pages: a team's list, create (secret shown once), edit, deactivate, rotate,
delete, the delivery log and one delivery; 404 for anyone who may not manage the team's."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.webhooks.models import Delivery, DeliveryAttempt, Webhook
from tests.factories import grant, make_team, make_user

pytestmark = pytest.mark.django_db

LIST = "/teams/credit/webhooks/"
URL = "http://127.0.0.1:9/hooks"


def _create(client, **data):
    return client.post(LIST, {"url": URL, "events": ["decision.made", "version.promoted"], **data})


def test_it_creates_a_webhook_and_shows_its_secret_once(client, alice):
    client.force_login(alice)
    assert client.get("/webhooks/").url == LIST  # one team: straight to it
    page = client.get(LIST)
    assert page.status_code == 200 and b"No webhooks yet" in page.content
    assert b'href="/webhooks/"' in page.content, "the navigation links the webhook pages"
    response = _create(client, description="CI")
    webhook = Webhook.objects.get()
    assert response.status_code == 302 and response.url == f"{LIST}{webhook.pk}/"
    first = client.get(response.url).content.decode()
    assert webhook.secret in first and "shown this once" in first
    again = client.get(response.url).content.decode()
    assert webhook.secret not in again and f"{webhook.secret_prefix}…" in again
    listed = client.get(LIST).content.decode()
    assert URL in listed and webhook.secret not in listed


def test_a_bad_url_is_a_form_error_and_nothing_is_saved(client, alice):
    client.force_login(alice)
    response = _create(client, url="ftp://example.com/x")
    assert response.status_code == 400
    assert "Only http:// and https://" in response.content.decode() and not Webhook.objects.exists()
    response = client.post(LIST, {"url": URL})
    assert response.status_code == 400 and "Pick at least one event" in response.content.decode()


def test_edit_deactivate_rotate_and_delete(client, alice):
    client.force_login(alice)
    _create(client)
    webhook = Webhook.objects.get()
    page = f"{LIST}{webhook.pk}/"
    saved = client.post(page, {"url": URL + "/v2", "events": ["report.ready"], "description": "moved"})
    assert saved.status_code == 302
    webhook.refresh_from_db()
    assert webhook.url == URL + "/v2" and webhook.events == ["report.ready"]
    client.post(page + "active/", {"active": "false"})
    webhook.refresh_from_db()
    assert webhook.active is False and "Activate" in client.get(page).content.decode()
    old = webhook.secret
    client.get(page)  # the creation's secret has been shown
    assert client.post(page + "rotate/").status_code == 302
    webhook.refresh_from_db()
    shown = client.get(page).content.decode()
    assert webhook.secret != old and webhook.secret in shown and "The new secret" in shown
    assert client.post(page + "delete/").url == LIST
    assert not Webhook.objects.exists()
    sentences = [e.action for e in AuditEvent.objects.filter(action__startswith="webhook.")]
    assert sentences == [
        "webhook.registered",
        "webhook.updated",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.deleted",
    ]


def test_the_delivery_log_and_a_delivery_page(client, alice):
    client.force_login(alice)
    _create(client)
    webhook = Webhook.objects.get()
    now = timezone.now()
    row = Delivery.objects.create(
        webhook=webhook,
        event_type="decision.made",
        event_id="evt_abc",
        payload={"id": "evt_abc", "type": "decision.made"},
        next_attempt_at=now,
        status="pending",
        attempts=1,
        response_code=503,
        error="The receiver answered 503.",
    )
    DeliveryAttempt.objects.create(
        delivery=row, number=1, started_at=now, duration_ms=12, response_code=503, response_excerpt="busy"
    )
    log = client.get(f"{LIST}{webhook.pk}/").content.decode()
    assert f'data-delivery="{row.pk}"' in log and "<code>503</code>" in log and "next try" in log
    assert f'data-delivery="{row.pk}"' not in client.get(f"{LIST}{webhook.pk}/?status=delivered").content.decode()
    detail = client.get(f"{LIST}{webhook.pk}/deliveries/{row.pk}/").content.decode()
    assert "busy" in detail and "&quot;evt_abc&quot;" in detail and "Redeliver" in detail
    assert re.search(r'data-attempt="1"', detail)


def test_people_who_may_not_manage_the_team_get_404(client, alice, bob, charlie):
    client.force_login(alice)
    _create(client)
    webhook = Webhook.objects.get()
    outsider = make_user("olga")
    grant(outsider, "model_owner", team=make_team("marketing"))
    for user in (bob, charlie, outsider):
        client.force_login(user)
        assert client.get(LIST).status_code == 404
        assert client.get(f"{LIST}{webhook.pk}/").status_code == 404
        assert _create(client).status_code == 404
        assert client.post(f"{LIST}{webhook.pk}/rotate/").status_code == 404
        assert client.post(f"{LIST}{webhook.pk}/delete/").status_code == 404
        if user is not outsider:  # she manages her own team's webhooks: the link is hers
            assert b'href="/webhooks/"' not in client.get("/").content
    client.force_login(outsider)
    assert client.get(f"/teams/marketing/webhooks/{webhook.pk}/").status_code == 404
    assert Webhook.objects.count() == 1 and Webhook.objects.get().secret == webhook.secret


def test_redeliver_is_post_only(client, alice):
    client.force_login(alice)
    _create(client)
    webhook = Webhook.objects.get()
    row = Delivery.objects.create(
        webhook=webhook, event_type="decision.made", event_id="evt_x", payload={}, next_attempt_at=timezone.now()
    )
    assert client.get(f"{LIST}{webhook.pk}/deliveries/{row.pk}/redeliver/").status_code == 405
