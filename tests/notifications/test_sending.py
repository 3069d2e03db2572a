"""Sending one notification: claimed once, sent once, failures recorded and retried."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from governance.notifications import tasks
from governance.notifications.models import Channel, Notification, NotificationKind
from governance.notifications.services import notification_send
from tests.notifications.backends import FlakyBackend

pytestmark = pytest.mark.django_db

SITE = "https://gov.example.test"


def _refresh(notification) -> Notification:
    return Notification.objects.get(pk=notification.pk)


@override_settings(SITE_URL=SITE)
def test_it_sends_one_email_with_subject_links_and_both_parts(approval_needed, bob):
    assert notification_send(notification_id=approval_needed.pk) == "sent"
    [message] = mail.outbox
    request = approval_needed.request
    version = request.version
    assert message.to == [bob.email]
    assert message.subject == (
        f"[Model governance] Approval needed: {version.model.name} v{version.version} draft → staging (#{request.pk})"
    )
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    for body in (message.body, html):
        assert f"{SITE}/requests/{request.pk}/" in body
        assert f"{SITE}/account/notifications/" in body
        assert "alice" in body and "better AUC" in body  # who asks and why
    assert "<img" not in html and "<link" not in html and "<style" not in html  # inline CSS, nothing remote
    assert message.extra_headers["Message-ID"] == f"<governance-notification-{approval_needed.pk}@gov.example.test>"
    row = _refresh(approval_needed)
    assert row.sent_at is not None and row.attempts == 1 and row.claimed_at is None


def test_a_task_run_twice_sends_one_email(approval_needed):
    assert tasks.notification_send_task.apply(args=[approval_needed.pk]).get() == "sent"
    assert tasks.notification_send_task.apply(args=[approval_needed.pk]).get() == "skipped"
    assert len(mail.outbox) == 1
    assert _refresh(approval_needed).attempts == 1


def test_a_redelivered_task_skips_a_notification_another_worker_is_sending(approval_needed):
    Notification.objects.filter(pk=approval_needed.pk).update(claimed_at=timezone.now())
    assert notification_send(notification_id=approval_needed.pk) == "skipped"
    assert mail.outbox == []


def test_a_claim_lost_with_its_worker_is_taken_over_after_the_time_limit(approval_needed, settings):
    lost = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    Notification.objects.filter(pk=approval_needed.pk).update(claimed_at=lost, attempts=1)
    assert notification_send(notification_id=approval_needed.pk) == "sent"
    assert len(mail.outbox) == 1 and _refresh(approval_needed).attempts == 2


def test_a_missing_notification_is_skipped(db):
    assert notification_send(notification_id=987654321) == "skipped"


def test_a_failing_relay_leaves_it_unsent_with_attempts_and_error_then_it_goes(approval_needed):
    FlakyBackend.failures = 2
    with override_settings(EMAIL_BACKEND="tests.notifications.backends.FlakyBackend"):
        for attempt in (1, 2):
            with pytest.raises(OSError):
                notification_send(notification_id=approval_needed.pk)
            row = _refresh(approval_needed)
            assert (row.sent_at, row.claimed_at, row.attempts) == (None, None, attempt)
            assert row.last_error.startswith("SMTPServerDisconnected: Connection unexpectedly closed")
            assert row.queued_at is not None  # the retry is on its way: the sweeper waits
        assert notification_send(notification_id=approval_needed.pk) == "sent"
    row = _refresh(approval_needed)
    assert row.sent_at is not None and row.attempts == 3
    assert len(mail.outbox) == 1


def test_the_task_retries_smtp_errors_with_capped_backoff(settings):
    task = tasks.notification_send_task
    assert issubclass(__import__("smtplib").SMTPException, task.autoretry_for)
    assert issubclass(ConnectionRefusedError, task.autoretry_for)
    assert task.retry_backoff and task.max_retries >= 3
    # Every countdown stays below the visibility timeout, or Redis would run the task twice.
    assert task.retry_backoff_max < settings.CELERY_VISIBILITY_TIMEOUT
    assert task.acks_late and task.reject_on_worker_lost


def test_a_recipient_without_an_address_is_not_emailed_and_not_retried(approval_needed, bob):
    bob.email = ""
    bob.save(update_fields=["email"])
    assert notification_send(notification_id=approval_needed.pk) == "not_emailed"
    row = _refresh(approval_needed)
    assert row.channel == Channel.NONE and row.sent_at is None and "no email address" in row.last_error
    assert mail.outbox == []


@pytest.mark.parametrize("kind", NotificationKind.values)
def test_every_event_has_a_text_and_an_html_email(kind, approval_needed, bob):
    row = Notification.objects.create(
        recipient=bob, kind=kind, request=approval_needed.request, key="t", message=f"What happened: {kind}."
    )
    assert notification_send(notification_id=row.pk) == "sent"
    [message] = mail.outbox
    label = NotificationKind(kind).label
    assert message.subject.startswith(f"[Model governance] {label}: ")
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert f"/requests/{approval_needed.request_id}/" in body and "/account/notifications/" in body
    assert "{{" not in message.body and "{%" not in html
    assert not re.search(r"\n\s*\n\s*\n\s*\n", message.body), message.body  # no holes in the text


@pytest.mark.parametrize(
    "backend, words",
    [
        ("file", "(a file per email)"),
        ("smtp", "SMTP mail.example.test:2525"),
        ("console", "console backend"),
    ],
)
def test_it_says_where_emails_go_for_the_start_up_message(backend, words, settings, tmp_path):
    from governance.notifications.emails import email_destination

    settings.EMAIL_BACKEND = f"django.core.mail.backends.{'filebased' if backend == 'file' else backend}.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.EMAIL_HOST, settings.EMAIL_PORT = "mail.example.test", 2525
    assert words in email_destination()
    if backend == "file":
        assert email_destination().startswith(str(tmp_path / "mail") + "/")
