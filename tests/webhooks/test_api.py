"""The webhook API: CRUD of a team's webhooks and its delivery log, with JSON errors naming
the field; only the team's model owners, MLOps and staff admins see any of it."""

from __future__ import annotations

import pytest
from django.test import override_settings

from governance.audit.models import AuditEvent
from governance.webhooks.models import Delivery, DeliveryAttempt, Webhook
from tests.factories import api_client, grant, make_team, make_user

pytestmark = pytest.mark.django_db

BASE = "/api/v1/teams/credit/webhooks/"
URL = "http://127.0.0.1:9/hooks"


def _create(client, **body):
    return client.post(BASE, {"url": URL, "events": ["decision.made"], **body}, format="json")


def test_it_registers_shows_the_secret_once_and_lists_without_it(alice):
    client = api_client(alice)
    created = _create(client, description="CI gate job")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["secret_prefix"] == body["secret"][:10]
    assert body["events"] == ["decision.made"] and body["team"] == "credit" and body["active"] is True
    assert Webhook.objects.get().secret == body["secret"]

    listed = client.get(BASE).json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    one = client.get(f"{BASE}{body['id']}/").json()
    assert "secret" not in one and one["secret_prefix"] == body["secret_prefix"]
    event = AuditEvent.objects.get(action="webhook.registered")
    assert event.actor == alice and body["secret"] not in str(event.data)


def test_it_edits_deactivates_rotates_and_deletes_each_audited(alice):
    client = api_client(alice)
    created = _create(client).json()
    url = f"{BASE}{created['id']}/"
    edited = client.patch(url, {"events": ["report.ready", "decision.made"], "url": URL + "/v2"}, format="json")
    assert edited.status_code == 200 and edited.json()["events"] == ["decision.made", "report.ready"]
    off = client.patch(url, {"active": False}, format="json")
    assert off.status_code == 200 and off.json()["active"] is False

    rotated = client.post(url + "rotate-secret/")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != created["secret"] and Webhook.objects.get().secret == new
    assert client.delete(url).status_code == 204
    assert not Webhook.objects.exists()
    actions = list(AuditEvent.objects.filter(action__startswith="webhook.").values_list("action", flat=True))
    assert actions == [
        "webhook.registered",
        "webhook.updated",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.deleted",
    ]


@pytest.mark.parametrize(
    "url,needle",
    [
        ("ftp://example.com/hook", "Only http:// and https://"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("not a url", "spaces"),
        ("https:///nohost", "no host"),
        ("", "blank"),
        ("https://no-such-host.invalid/hook", "cannot be resolved"),
    ],
)
def test_a_bad_url_is_a_400_naming_the_field(alice, url, needle):
    response = _create(api_client(alice), url=url)
    assert response.status_code == 400
    error = response.json()["error"]
    assert needle in " ".join(error["fields"]["url"]) and not Webhook.objects.exists()


@override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=False, WEBHOOK_ALLOWED_HOSTS=[])
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/", "http://10.1.2.3/", "http://169.254.169.254/latest/", "http://[::1]/"]
)
def test_private_targets_are_refused_in_production(alice, url):
    response = _create(api_client(alice), url=url)
    assert response.status_code == 400
    assert "private, loopback or link-local" in response.json()["error"]["fields"]["url"][0]


@override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=False, WEBHOOK_ALLOWED_HOSTS=["10.0.0.0/8"])
def test_an_allowed_network_may_be_called(alice):
    assert _create(api_client(alice), url="http://10.1.2.3/hook").status_code == 201


def test_bad_events_and_description_name_their_fields_together(alice):
    response = _create(api_client(alice), url="gopher://x", events=["decision.made", "model.deleted"])
    fields = response.json()["error"]["fields"]
    assert response.status_code == 400 and set(fields) == {"url", "events"}
    assert "model.deleted" in fields["events"][0]
    assert _create(api_client(alice), events=[]).json()["error"]["fields"]["events"]
    long = _create(api_client(alice), description="x" * 201)
    assert long.status_code == 400 and "description" in long.json()["error"]["fields"]


def test_other_teams_and_people_without_the_role_get_404(alice, bob, charlie):
    created = _create(api_client(alice)).json()
    outsider = make_user("olga")
    grant(outsider, "model_owner", team=make_team("marketing"))
    for user in (bob, charlie, outsider):  # a reviewer of the team, nobody, another team's owner
        client = api_client(user)
        assert client.get(BASE).status_code == 404
        assert client.get(f"{BASE}{created['id']}/").status_code == 404
        assert _create(client).status_code == 404
        assert client.post(f"{BASE}{created['id']}/rotate-secret/").status_code == 404
        assert client.delete(f"{BASE}{created['id']}/").status_code == 404
        assert client.get(f"{BASE}{created['id']}/deliveries/").json()["error"]["code"] == "not_found"
    # Their own team's URL does not reach this webhook either.
    assert api_client(outsider).get(f"/api/v1/teams/marketing/webhooks/{created['id']}/").status_code == 404
    assert Webhook.objects.count() == 1


def test_mlops_and_staff_admins_may_manage(admin_user, team):
    mo = make_user("mo")
    grant(mo, "mlops", team=team)
    assert _create(api_client(mo)).status_code == 201
    assert api_client(admin_user).get(BASE).json()["count"] == 1


def test_a_role_on_one_model_only_is_not_enough(model):
    owner = make_user("oscar")
    grant(owner, "model_owner", model=model)
    assert _create(api_client(owner)).status_code == 404


def test_the_delivery_log_pages_filters_and_shows_attempts(alice):
    client = api_client(alice)
    created = _create(client).json()
    webhook = Webhook.objects.get()
    from django.utils import timezone

    now = timezone.now()
    rows = [
        Delivery.objects.create(
            webhook=webhook,
            event_type="decision.made",
            event_id=f"evt_{i}",
            payload={"id": f"evt_{i}"},
            next_attempt_at=now,
            status="failed" if i % 2 else "delivered",
            attempts=1,
            response_code=500 if i % 2 else 200,
        )
        for i in range(5)
    ]
    DeliveryAttempt.objects.create(delivery=rows[1], number=1, started_at=now, response_code=500, error="boom")
    log = client.get(f"{BASE}{created['id']}/deliveries/?status=failed&page_size=1")
    assert log.status_code == 200
    page = log.json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    assert page["results"][0]["response_code"] == 500
    detail = client.get(f"{BASE}{created['id']}/deliveries/{rows[1].pk}/").json()
    assert detail["payload"] == {"id": "evt_1"} and detail["attempt_log"][0]["error"] == "boom"
    bad = client.get(f"{BASE}{created['id']}/deliveries/?status=lost")
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]


def test_redelivery_of_an_inactive_webhook_is_refused_with_a_reason(alice):
    client = api_client(alice)
    created = _create(client).json()
    webhook = Webhook.objects.get()
    from django.utils import timezone

    row = Delivery.objects.create(
        webhook=webhook, event_type="decision.made", event_id="evt_x", payload={}, next_attempt_at=timezone.now()
    )
    client.patch(f"{BASE}{created['id']}/", {"active": False}, format="json")
    response = client.post(f"{BASE}{created['id']}/deliveries/{row.pk}/redeliver/")
    assert response.status_code == 409 and "inactive" in response.json()["error"]["message"]
    assert Delivery.objects.count() == 1


def test_a_retried_create_with_the_same_idempotency_key_registers_once(alice):
    client = api_client(alice)
    body = {"url": URL, "events": ["decision.made"]}
    first = client.post(BASE, body, format="json", HTTP_IDEMPOTENCY_KEY="ci-run-42")
    again = client.post(BASE, body, format="json", HTTP_IDEMPOTENCY_KEY="ci-run-42")
    assert first.status_code == again.status_code == 201
    assert again.json()["secret"] == first.json()["secret"] and Webhook.objects.count() == 1
    other = client.post(BASE, {**body, "events": ["report.ready"]}, format="json", HTTP_IDEMPOTENCY_KEY="ci-run-42")
    assert other.status_code == 409 and Webhook.objects.count() == 1


def test_a_test_event_is_queued_for_one_webhook(alice):
    client = api_client(alice)
    created = _create(client).json()
    response = client.post(f"{BASE}{created['id']}/test/")
    assert response.status_code == 202
    delivery = Delivery.objects.get()
    assert delivery.event_type == "webhook.test" and response.json()["id"] == delivery.pk
    assert delivery.payload["data"]["message"].startswith("A test event")
    assert AuditEvent.objects.filter(action="webhook.pinged").count() == 1


def test_a_service_token_reaches_only_its_own_teams_webhooks(alice, team):
    from rest_framework.test import APIClient

    from governance.accounts.models import ApiToken

    marketing = make_team("marketing")
    grant(alice, "model_owner", team=marketing)
    token, key = ApiToken.issue(user=alice, name="marketing CI")
    token.teams.set([marketing])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert _create(client).status_code == 404  # credit: outside the token's teams
    assert (
        client.post(
            "/api/v1/teams/marketing/webhooks/", {"url": URL, "events": ["report.ready"]}, format="json"
        ).status_code
        == 201
    )
