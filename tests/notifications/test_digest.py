"""Preferences at work: off (nothing but escalations), daily digest (nothing immediate, then
one digest email a day listing it all, safe to run twice). Time travels through `now=`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from governance.approvals.services import promotion_request
from governance.notifications.models import Channel, EmailPreference, Notification, NotificationDigest
from governance.notifications.services import (
    digest_send,
    digests_create,
    notification_send,
    notifications_queue,
    notify,
    preference_set,
)
from tests.factories import make_version
from tests.notifications.backends import FlakyBackend

pytestmark = pytest.mark.django_db

SITE = "https://gov.example.test"


def deliver(callbacks) -> None:
    """Run what notify queued after commit, as a worker would."""
    for callback in callbacks:
        if getattr(callback, "func", None) is notifications_queue:
            for notification_id in callback.args[0]:
                notification_send(notification_id=notification_id)


def test_off_sends_nothing_but_escalations(file_request, bob, django_capture_on_commit_callbacks):
    preference_set(user=bob, email=EmailPreference.OFF)
    with django_capture_on_commit_callbacks() as callbacks:
        request = file_request()
    deliver(callbacks)
    for row in Notification.objects.filter(recipient=bob):
        assert notification_send(notification_id=row.pk) == "skipped"  # not emailed: never claimed
    assert mail.outbox == []

    with django_capture_on_commit_callbacks() as callbacks:
        notify(
            event="review_overdue",
            request=request,
            recipients=[bob],
            message="The post-incident review is overdue.",
            escalation=True,
        )
    deliver(callbacks)
    [message] = mail.outbox
    assert message.to == [bob.email] and "Post-incident review overdue" in message.subject
    assert "escalation" in message.body


def _at_six(*, days: int):
    """06:00 local, `days` from today: hours stepped from it never cross midnight."""
    return timezone.localtime().replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(days=days)


@override_settings(SITE_URL=SITE)
def test_a_digest_reader_gets_nothing_at_once_then_one_email_listing_it_all(
    alice, bob, model, version, django_capture_on_commit_callbacks
):
    preference_set(user=bob, email=EmailPreference.DAILY_DIGEST)
    second = make_version(model, alice)
    with django_capture_on_commit_callbacks() as callbacks:
        first_request = promotion_request(user=alice, version=version, to_stage="staging", justification="a")
        second_request = promotion_request(user=alice, version=second, to_stage="staging", justification="b")
        notify(event="approval_needed", request=first_request, recipients=[bob], message="Asked again.", key="r2")
    deliver(callbacks)
    assert mail.outbox == []
    rows = Notification.objects.filter(recipient=bob)
    assert rows.count() == 3 and {r.channel for r in rows} == {Channel.DIGEST}

    tomorrow = _at_six(days=1)  # +1 h below stays on the same local day
    [digest_id] = digests_create(now=tomorrow)
    assert digest_send(digest_id=digest_id, now=tomorrow) == "sent"
    [message] = mail.outbox
    assert message.to == [bob.email]
    assert message.subject == "[Model governance] Daily digest: 3 updates on 2 requests"
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert f"{SITE}/requests/{first_request.pk}/" in body and f"{SITE}/requests/{second_request.pk}/" in body
        assert f"{SITE}/account/notifications/" in body
        assert "Asked again." in body
    # Grouped by request: the first request's two updates come before the second request.
    text = message.body
    assert text.index(f"(#{first_request.pk})") < text.index("Asked again.") < text.index(f"(#{second_request.pk})")
    assert all(r.sent_at is not None and r.digest_id == digest_id for r in rows.all())

    # Run again the same day: the day's digest exists and is sent, so nothing more goes.
    assert digests_create(now=tomorrow + timedelta(hours=1)) == []
    assert digest_send(digest_id=digest_id, now=tomorrow) == "skipped"
    assert len(mail.outbox) == 1


def test_what_happens_after_the_days_digest_waits_for_the_next_one(file_request, bob, alice):
    preference_set(user=bob, email=EmailPreference.DAILY_DIGEST)
    request = file_request()
    today = _at_six(days=1)  # "+2 h" below stays on the same local day at any hour the suite runs
    [first] = digests_create(now=today)
    digest_send(digest_id=first, now=today)
    late = notify(event="approval_needed", request=request, recipients=[bob], message="Round 2.", key="round-2")
    Notification.objects.filter(pk=late[0].pk).update(created_at=today + timedelta(minutes=5))
    assert digests_create(now=today + timedelta(hours=2)) == []  # today's is sent
    next_day = today + timedelta(days=1)
    [second] = digests_create(now=next_day)
    assert second != first
    assert digest_send(digest_id=second, now=next_day) == "sent"
    assert len(mail.outbox) == 2 and "Round 2." in mail.outbox[1].body
    assert NotificationDigest.objects.filter(recipient=bob).count() == 2


def test_nobody_gets_an_empty_digest(file_request, bob):
    file_request()  # bob reads immediately: nothing waits for a digest
    assert digests_create(now=timezone.now() + timedelta(days=1)) == []


def test_a_digest_that_fails_is_kept_and_sent_on_retry(file_request, bob):
    preference_set(user=bob, email=EmailPreference.DAILY_DIGEST)
    file_request()
    now = timezone.now() + timedelta(days=1)
    [digest_id] = digests_create(now=now)
    FlakyBackend.failures = 1
    with override_settings(EMAIL_BACKEND="tests.notifications.backends.FlakyBackend"):
        with pytest.raises(OSError):
            digest_send(digest_id=digest_id, now=now)
        digest = NotificationDigest.objects.get(pk=digest_id)
        assert digest.sent_at is None and digest.attempts == 1 and "SMTPServerDisconnected" in digest.last_error
        assert Notification.objects.get(recipient=bob).sent_at is None
        assert digest_send(digest_id=digest_id, now=now) == "sent"
    assert len(mail.outbox) == 1
    assert Notification.objects.get(recipient=bob).sent_at is not None


def test_turning_email_off_before_the_digest_sends_nothing(file_request, bob):
    preference_set(user=bob, email=EmailPreference.DAILY_DIGEST)
    file_request()
    now = timezone.now() + timedelta(days=1)
    [digest_id] = digests_create(now=now)
    preference_set(user=bob, email=EmailPreference.OFF)
    assert digest_send(digest_id=digest_id, now=now) == "not_emailed"
    assert mail.outbox == [] and not NotificationDigest.objects.exists()
