"""notify(): one row per recipient and occurrence, its channel from the person's preference."""

from __future__ import annotations

import pytest

from governance.notifications.models import Channel, EmailPreference, Notification
from governance.notifications.services import delivery_channel, notifications_queue, notify, preference_set
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_it_records_one_row_however_often_an_occurrence_is_notified(approval_needed, bob):
    request = approval_needed.request
    again = notify(event="approval_needed", request=request, recipients=[bob, bob, None], message="x", key="round-1")
    assert again == []
    assert Notification.objects.filter(recipient=bob, kind="approval_needed", request=request).count() == 1


def test_it_records_a_new_occurrence_under_a_new_key(approval_needed, bob):
    request = approval_needed.request
    [row] = notify(event="approval_needed", request=request, recipients=[bob], message="again", key="round-2")
    assert row.key == "round-2" and row.message == "again"
    assert Notification.objects.filter(recipient=bob, kind="approval_needed", request=request).count() == 2


def test_it_notifies_every_person_who_may_fill_the_open_slot(file_request, bob, carol, alice):
    request = file_request()
    assert set(
        Notification.objects.filter(kind="approval_needed", request=request).values_list(
            "recipient__username", flat=True
        )
    ) == {"bob", "carol"}  # alice filed it: she may not approve her own request


def test_it_queues_only_after_commit_and_only_immediate_rows(
    file_request, bob, carol, django_capture_on_commit_callbacks
):
    preference_set(user=carol, email=EmailPreference.DAILY_DIGEST)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request = file_request()
    [queueing] = [c for c in callbacks if getattr(c, "func", None) is notifications_queue]
    queued = queueing.args[0]
    assert queued == [Notification.objects.get(recipient=bob, request=request, kind="approval_needed").pk]


def test_it_refuses_an_unknown_event(approval_needed, bob):
    with pytest.raises(ValueError):
        notify(event="approval_pending", request=approval_needed.request, recipients=[bob], message="x")


@pytest.mark.parametrize(
    "preference, escalation, reachable, channel",
    [
        ("immediately", False, True, Channel.IMMEDIATE),
        ("daily_digest", False, True, Channel.DIGEST),
        ("off", False, True, Channel.NONE),
        ("daily_digest", True, True, Channel.IMMEDIATE),
        ("off", True, True, Channel.IMMEDIATE),
        ("immediately", True, False, Channel.NONE),
    ],
)
def test_the_channel_follows_the_preference_and_escalations_always_go(preference, escalation, reachable, channel):
    assert delivery_channel(preference=preference, escalation=escalation, reachable=reachable) == channel


def test_it_records_but_does_not_email_people_who_turned_email_off(file_request, bob):
    preference_set(user=bob, email=EmailPreference.OFF)
    request = file_request()
    row = Notification.objects.get(recipient=bob, request=request, kind="approval_needed")
    assert row.channel == Channel.NONE


def test_sla_reminders_and_overdue_reviews_are_escalations_even_when_not_marked(approval_needed, bob):
    preference_set(user=bob, email=EmailPreference.OFF)
    request = approval_needed.request
    [reminder] = notify(event="sla_reminder", request=request, recipients=[bob], message="late", key="2026-12-01")
    [due] = notify(event="review_due", request=request, recipients=[bob], message="due")
    assert (reminder.escalation, reminder.channel) == (True, Channel.IMMEDIATE)
    assert (due.escalation, due.channel) == (False, Channel.NONE)


def test_people_without_an_address_are_recorded_but_not_emailed(approval_needed):
    nobody = make_user("nobody", email="")
    [row] = notify(event="promoted", request=approval_needed.request, recipients=[nobody], message="x")
    assert row.channel == Channel.NONE


def test_turning_email_off_drops_what_waits_for_the_digest(file_request, bob):
    preference_set(user=bob, email=EmailPreference.DAILY_DIGEST)
    request = file_request()
    assert Notification.objects.get(recipient=bob, request=request).channel == Channel.DIGEST
    preference_set(user=bob, email=EmailPreference.OFF)
    assert Notification.objects.get(recipient=bob, request=request).channel == Channel.NONE
