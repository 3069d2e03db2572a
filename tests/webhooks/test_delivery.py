"""Webhooks delivered by the real Celery worker to a real HTTP receiver on 127.0.0.1, which
checks every signature with the recipe printed in docs/webhooks.md."""

from __future__ import annotations

import json
import time

import pytest
from django.db import transaction

from governance.approvals.services import promotion_decide, promotion_request
from governance.audit.models import AuditEvent
from governance.webhooks import services
from governance.webhooks.models import Delivery, DeliveryStatus
from tests.conftest import wait_for
from tests.factories import make_team, make_user
from tests.webhooks.conftest import documented_verify

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

ALL = ["request.created", "gates.finished", "decision.made", "version.promoted", "version.rolled_back", "report.ready"]


def _register(user, team, receiver, events=ALL):
    webhook, secret = services.webhook_create(user=user, team=team, url=receiver.url, events=events)
    receiver.secret = secret
    return webhook


def _file(alice, version):
    return promotion_request(
        user=alice, version=version, to_stage="staging", justification="better AUC", ticket_id="RISK-1"
    )


def _finished(webhook, n: int):
    def done():
        rows = list(Delivery.objects.filter(webhook=webhook).order_by("pk"))
        return rows if len(rows) >= n and all(r.finished for r in rows) else None

    return wait_for(done, timeout=40, message=f"{n} finished deliveries")


def test_it_signs_each_event_of_a_promotion_and_the_documented_recipe_verifies_it(
    celery_worker, receiver, alice, bob, version
):
    webhook = _register(alice, version.model.team, receiver)
    request = _file(alice, version)
    promotion_decide(user=bob, request=request, decision="approve", reason="fine", risk_class="low")

    got = receiver.wait_for(4)
    rows = _finished(webhook, 4)
    bodies = [json.loads(r.body) for r in got]
    # No gates under the default draft->staging policy: they "finish" (pass) at once.
    assert sorted(b["type"] for b in bodies) == [
        "decision.made",
        "gates.finished",
        "request.created",
        "version.promoted",
    ]
    assert all(r.verified for r in got), "every delivery verifies with the recipe of docs/webhooks.md"
    by_type = {b["type"]: b for b in bodies}
    decision = by_type["decision.made"]
    assert decision["team"] == "credit" and decision["actor"] == "bob" and decision["action"] == "promotion.approved"
    assert decision["data"]["decision"]["decision"] == "approve"
    assert decision["data"]["request"]["id"] == request.pk
    assert by_type["version.promoted"]["data"]["request"]["status"] == "promoted"
    assert by_type["gates.finished"]["data"]["outcome"] == "passed" and by_type["gates.finished"]["data"]["gates"] == []
    assert by_type["request.created"]["data"]["request"]["url"].endswith(f"/requests/{request.pk}/")
    for r in got:
        body = json.loads(r.body)
        assert r.headers["X-Governance-Event-Id"] == body["id"]
        assert r.headers["X-Governance-Event"] == body["type"]
        assert r.headers["Content-Type"] == "application/json"
        assert r.path == "/hooks/governance?source=test"
    audit = AuditEvent.objects.get(action="promotion.approved")
    assert decision["id"] == f"evt_{audit.hash[:32]}"
    assert {r.status for r in rows} == {DeliveryStatus.DELIVERED}
    assert all(r.attempts == 1 and r.response_code == 200 for r in rows)
    assert rows[0].response_excerpt.startswith("answer 200")


def test_a_tampered_body_an_old_timestamp_or_another_secret_fails_the_recipe(celery_worker, receiver, alice, version):
    webhook = _register(alice, version.model.team, receiver, events=["request.created"])
    _file(alice, version)
    (got,) = receiver.wait_for(1)
    _finished(webhook, 1)
    verify = documented_verify()
    header = got.headers["X-Governance-Signature"]
    assert verify(receiver.secret, header, got.body)
    tampered = got.body.replace(b'"credit"', b'"market"')
    assert tampered != got.body and not verify(receiver.secret, header, tampered)
    assert not verify("whsec_another", header, got.body)
    t = int(header.split(",")[0].removeprefix("t="))
    assert abs(t - got.at) < 5
    assert verify(receiver.secret, header, got.body, now=t + 299)
    assert not verify(receiver.secret, header, got.body, now=t + 301), "a replay after 5 minutes is refused"
    assert not verify(receiver.secret, header.replace(f"t={t}", f"t={t + 1}"), got.body)
    assert not verify(receiver.secret, "garbage", got.body)


def test_it_retries_a_500_with_backoff_and_logs_every_attempt(celery_worker, receiver, alice, version):
    receiver.script = [500, 503, 200]
    webhook = _register(alice, version.model.team, receiver, events=["request.created"])
    _file(alice, version)
    got = receiver.wait_for(3)
    (delivery,) = _finished(webhook, 1)
    attempts = list(delivery.attempt_log.order_by("number"))
    assert [a.response_code for a in attempts] == [500, 503, 200]
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert "The receiver answered 500." in attempts[0].error
    # Exponential backoff with WEBHOOK_RETRY_BASE_SECONDS=1 (tests/env.py): >= 1 s, then >= 2 s.
    gaps = [got[1].at - got[0].at, got[2].at - got[1].at]
    assert gaps[0] >= 1.0 and gaps[1] >= 2.0, gaps
    assert gaps[1] > gaps[0]
    assert len({r.headers["X-Governance-Event-Id"] for r in got}) == 1, "retries keep the event id"
    assert all(r.verified for r in got), "each retry is signed again"


def test_a_client_error_fails_at_once_and_redelivery_sends_the_same_event_again(
    celery_worker, receiver, alice, version, client
):
    receiver.script = [400, 200]
    webhook = _register(alice, version.model.team, receiver, events=["request.created"])
    _file(alice, version)
    (failed,) = _finished(webhook, 1)
    assert failed.status == DeliveryStatus.FAILED and failed.attempts == 1 and failed.response_code == 400
    time.sleep(1.5)
    assert len(receiver.requests) == 1, "a 4xx is not retried"

    client.force_login(alice)
    url = f"/teams/credit/webhooks/{webhook.pk}/deliveries/{failed.pk}/redeliver/"
    response = client.post(url)
    assert response.status_code == 302
    got = receiver.wait_for(2)
    rows = _finished(webhook, 2)
    again = rows[1]
    assert again.redelivery_of_id == failed.pk and again.requested_by == alice
    assert again.status == DeliveryStatus.DELIVERED and again.event_id == failed.event_id
    assert got[0].headers["X-Governance-Event-Id"] == got[1].headers["X-Governance-Event-Id"]
    assert got[0].body == got[1].body and got[1].verified
    event = AuditEvent.objects.get(action="webhook.redelivered")
    assert event.actor == alice and event.data["redelivery"] == again.pk


def test_a_rolled_back_change_sends_nothing(celery_worker, receiver, alice, bob, version):
    webhook = _register(alice, version.model.team, receiver, events=["request.created", "decision.made"])
    with pytest.raises(RuntimeError), transaction.atomic():
        _file(alice, version)
        raise RuntimeError("the change fails after its audit event was written")
    assert not AuditEvent.objects.filter(action="promotion.requested").exists()
    request = _file(alice, version)  # then one that commits: sent
    (got,) = receiver.wait_for(1)
    assert json.loads(got.body)["data"]["request"]["id"] == request.pk
    time.sleep(1.0)
    assert len(receiver.requests) == 1 and Delivery.objects.filter(webhook=webhook).count() == 1


def test_only_the_events_a_webhook_subscribed_to_and_only_its_own_team(celery_worker, receiver, alice, bob, version):
    other = make_team("marketing")
    mallory = make_user("mallory", is_staff=True)
    _register(mallory, other, receiver)  # another team's hook hears nothing of credit
    mine = _register(alice, version.model.team, receiver, events=["decision.made"])
    request = _file(alice, version)
    promotion_decide(user=bob, request=request, decision="approve", reason="fine", risk_class="low")
    (got,) = receiver.wait_for(1)
    _finished(mine, 1)
    time.sleep(1.0)
    assert len(receiver.requests) == 1 and json.loads(got.body)["type"] == "decision.made"


def test_a_duplicated_task_sends_an_attempt_once(stopped_celery_worker, receiver, alice, version):
    webhook = _register(alice, version.model.team, receiver, events=["request.created"])
    _file(alice, version)
    delivery = wait_for(lambda: Delivery.objects.filter(webhook=webhook).first(), message="the delivery row")
    from governance.webhooks.tasks import webhook_deliver_task

    for _ in range(3):  # the same message three times, as a broker redelivery would
        webhook_deliver_task.delay(delivery.pk)
    stopped_celery_worker.start()
    receiver.wait_for(1)
    _finished(webhook, 1)
    time.sleep(1.5)
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.attempt_log.count() == 1


def test_the_sweeper_sends_what_was_never_queued(stopped_celery_worker, receiver, alice, version):
    from datetime import timedelta

    from django.utils import timezone

    from governance.webhooks.models import Webhook

    webhook = _register(alice, version.model.team, receiver, events=["request.created"])
    long_ago = timezone.now() - timedelta(minutes=10)
    lost = Delivery.objects.create(  # as if the broker was down when the change committed
        webhook=webhook,
        event_type="request.created",
        event_id="evt_lost",
        payload={"id": "evt_lost", "type": "request.created"},
        next_attempt_at=long_ago,
    )
    fresh = Delivery.objects.create(
        webhook=webhook, event_type="request.created", event_id="evt_fresh", payload={}, next_attempt_at=timezone.now()
    )
    assert services.deliveries_sweep() == 1  # the fresh one is left to its own task
    lost.refresh_from_db()
    assert lost.queued_at is not None
    stopped_celery_worker.start()
    (got,) = receiver.wait_for(1)
    assert json.loads(got.body)["id"] == "evt_lost" and got.verified
    wait_for(lambda: Delivery.objects.get(pk=lost.pk).status == DeliveryStatus.DELIVERED, message="delivered")
    assert Delivery.objects.get(pk=fresh.pk).status == DeliveryStatus.PENDING
    assert Webhook.objects.get().pk == webhook.pk
