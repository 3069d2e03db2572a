"""The sweeper re-queues what a broker outage, a lost worker or a long SMTP outage left unsent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.notifications import tasks
from governance.notifications.models import Channel, Notification, NotificationDigest
from governance.notifications.services import notifications_queue, notifications_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """The ids handed to the broker (recorded here instead of sent to Redis)."""
    sent: dict[str, list[int]] = {"notifications": [], "digests": []}
    monkeypatch.setattr(tasks.notification_send_task, "delay", lambda pk: sent["notifications"].append(pk))
    monkeypatch.setattr(tasks.digest_send_task, "delay", lambda pk: sent["digests"].append(pk))
    return sent


def _age(notification, **fields) -> None:
    Notification.objects.filter(pk=notification.pk).update(**fields)


def test_it_requeues_an_immediate_notification_never_queued(approval_needed, queued, settings):
    _age(approval_needed, created_at=timezone.now() - timedelta(seconds=settings.NOTIFICATIONS_RETRY_AFTER_SECONDS + 1))
    assert notifications_sweep() == 1
    assert queued["notifications"] == [approval_needed.pk]
    assert Notification.objects.get(pk=approval_needed.pk).queued_at is not None


def test_it_leaves_alone_what_is_young_queued_claimed_sent_or_not_for_email(approval_needed, queued, settings):
    now = timezone.now()
    old = now - timedelta(seconds=settings.NOTIFICATIONS_RETRY_AFTER_SECONDS + 1)
    assert notifications_sweep(now=now) == 0  # just recorded: its own task is on the way
    for fields in (
        {"queued_at": now},  # a task (or a retry) is on its way
        {"claimed_at": now},  # a worker is sending it
        {"sent_at": now},
        {"channel": Channel.DIGEST},
        {"channel": Channel.NONE},
        {"created_at": now - timedelta(hours=settings.NOTIFICATIONS_RETRY_FOR_HOURS + 1)},  # given up
    ):
        _age(approval_needed, created_at=old, queued_at=None, claimed_at=None, sent_at=None, channel="immediate")
        _age(approval_needed, **fields)
        assert notifications_sweep(now=now) == 0, fields
    assert queued["notifications"] == []


def test_it_takes_over_a_claim_whose_worker_died(approval_needed, queued, settings):
    now = timezone.now()
    old = now - timedelta(seconds=settings.NOTIFICATIONS_RETRY_AFTER_SECONDS + 1)
    lost = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    _age(approval_needed, created_at=old, queued_at=old, claimed_at=lost)
    assert notifications_sweep(now=now) == 1


def test_a_broker_outage_when_queueing_loses_nothing(approval_needed, monkeypatch):
    def down(pk):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.notification_send_task, "delay", down)
    notifications_queue([approval_needed.pk])  # logged, not raised: the change already committed
    row = Notification.objects.get(pk=approval_needed.pk)
    assert row.queued_at is None and row.sent_at is None  # the sweeper's to send


def test_it_requeues_an_unsent_digest(bob, queued, settings):
    old = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS_RETRY_AFTER_SECONDS + 1)
    digest = NotificationDigest.objects.create(recipient=bob, day=old.date())
    NotificationDigest.objects.filter(pk=digest.pk).update(created_at=old)
    assert notifications_sweep() == 1
    assert queued["digests"] == [digest.pk]


def test_beat_runs_the_sweeper_and_the_daily_digest(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["notifications-sweep-unsent"]["task"] == tasks.notifications_sweep_task.name
    digest = schedule["notifications-daily-digest"]
    assert digest["task"] == tasks.digests_send_daily.name
    assert digest["schedule"].hour == {settings.NOTIFICATIONS_DIGEST_HOUR} and digest["schedule"].minute == {0}
