"""Approval deadlines: the pure helpers (no database, `now` passed in), the SQL that filters
and orders by the same rule, and the daily reminder to whoever may fill an open slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from governance.approvals.models import PromotionRequest
from governance.approvals.selectors import InboxFilters, requests_open_in_scope, requests_overdue
from governance.approvals.services import promotion_decide, promotion_request
from governance.approvals.sla import due_at, duration_text, is_overdue, sla_state, sla_text
from governance.approvals.tasks import promotion_sla_remind_task, sla_reminders_send
from governance.notifications.models import Notification
from tests.factories import grant, make_user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Req:
    status: str = "awaiting_approvals"
    status_changed_at: datetime | None = T0
    sla_hours: int | None = 24


# --- Pure helpers -------------------------------------------------------------------------


def test_it_is_due_sla_hours_after_the_request_entered_awaiting_approvals():
    assert due_at(Req()) == T0 + timedelta(hours=24)


@pytest.mark.parametrize(
    "request_",
    [
        Req(sla_hours=None),
        Req(sla_hours=0),
        Req(status="awaiting_gates"),
        Req(status="promoted"),
        Req(status="rejected"),
    ],
    ids=["no-sla", "zero", "gates-running", "promoted", "rejected"],
)
def test_it_has_no_due_date_without_an_sla_or_while_not_awaiting_approvals(request_):
    assert due_at(request_) is None
    assert not is_overdue(request_, T0 + timedelta(days=365))
    assert sla_text(request_, T0) == "" and sla_state(request_, T0) is None


def test_it_becomes_overdue_at_the_due_time_and_not_before():
    assert not is_overdue(Req(), T0 + timedelta(hours=23, minutes=59))
    assert is_overdue(Req(), T0 + timedelta(hours=24))
    assert is_overdue(Req(), T0 + timedelta(days=10))


@pytest.mark.parametrize(
    "hours_after_entering,text",
    [
        (0, "due in 24 h"),
        (19, "due in 5 h"),
        (23.5, "due in 30 min"),
        (23.999, "due in 1 min"),
        (24, "overdue by 1 min"),
        (26, "overdue by 2 h"),
        (24 + 47, "overdue by 47 h"),
        (24 + 48, "overdue by 2 d"),
        (24 + 24 * 9 + 5, "overdue by 9 d"),
    ],
)
def test_it_says_how_long_in_words(hours_after_entering, text):
    assert sla_text(Req(), T0 + timedelta(hours=hours_after_entering)) == text


def test_a_long_sla_reads_in_days():
    assert sla_text(Req(sla_hours=120), T0) == "due in 5 d"
    assert duration_text(timedelta(seconds=-5)) == "1 min"  # never negative


def test_the_state_holds_due_date_flag_and_text_together():
    state = sla_state(Req(), T0 + timedelta(hours=50))
    assert state.due_at == T0 + timedelta(hours=24) and state.overdue and state.text == "overdue by 26 h"


# --- With the database: the same rule in SQL, and the reminder ----------------------------

SLA_POLICY = """
name: sla-{name}
applies_to: {{models: [{name}]}}
transitions:
  draft->staging:
    gates: []
    approvals: [{{role: reviewer}}]
    sla_hours: {hours}
"""


def _sla_request(alice, version, admin_user, hours: int = 24) -> PromotionRequest:
    from governance.policies.services import policy_publish

    policy_publish(
        text=SLA_POLICY.format(name=version.model.name, hours=hours), author=admin_user, reason="approval deadline"
    )
    request = promotion_request(user=alice, version=version, to_stage="staging", justification="ready")
    request.refresh_from_db()  # no gates: the request moved on to awaiting approvals at once
    assert request.status == "awaiting_approvals"
    assert request.sla_hours == hours, "promotion_request freezes sla_hours from the policy"
    return request


@pytest.fixture
def overdue_world(db, team, alice, bob, version, admin_user):
    """A request due 24 h after its gates passed; bob and bea may approve it, others may not."""
    bea = make_user("bea")
    grant(bea, "reviewer", team=team)
    audrey = make_user("audrey")
    grant(audrey, "auditor", team=team)
    make_user("charlie")
    request = _sla_request(alice, version, admin_user)
    # The gates passed at 06:00 (local) two days ago, whatever the time the suite runs: the
    # tests step a few hours past "due" and expect the same day (at 21:00 UTC, +25 h +3 h
    # crossed midnight and a second day's reminder was, rightly, sent).
    six = timezone.localtime().replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=2)
    PromotionRequest.objects.filter(pk=request.pk).update(status_changed_at=six)
    request.refresh_from_db()
    return request, {"bob": bob, "bea": bea, "audrey": audrey, "alice": alice}


def _reminders(request) -> list[tuple[str, str]]:
    return sorted(
        Notification.objects.filter(kind="sla_reminder", request=request).values_list("recipient__username", "key")
    )


@pytest.mark.django_db
def test_the_sql_rule_agrees_with_the_python_rule(overdue_world):
    request, people = overdue_world
    entered = request.status_changed_at
    for hours, overdue in ((23, False), (24, True), (80, True)):
        now = entered + timedelta(hours=hours)
        assert (request in requests_overdue(now)) is overdue
        shown = InboxFilters(overdue=True).apply(requests_open_in_scope(people["bob"]), now)
        assert (request in shown) is overdue
        assert is_overdue(request, now) is overdue
        annotated = requests_open_in_scope(people["bob"]).get(pk=request.pk).sla_due_at
        assert annotated == due_at(request)


@pytest.mark.django_db
def test_it_reminds_each_possible_approver_once_per_day_and_request(overdue_world):
    request, _ = overdue_world
    day_one = request.status_changed_at + timedelta(hours=25)
    assert sla_reminders_send(now=request.status_changed_at + timedelta(hours=23)) == 0
    assert sla_reminders_send(now=day_one) == 2
    assert sla_reminders_send(now=day_one + timedelta(hours=1)) == 0  # beat retried, or ran twice
    first_day = timezone.localdate(day_one).isoformat()
    assert _reminders(request) == [("bea", first_day), ("bob", first_day)]
    message = Notification.objects.filter(kind="sla_reminder", request=request).first().message
    assert "overdue by 1 h" in message and "waits for your sign-off" in message
    assert sla_reminders_send(now=day_one + timedelta(days=1)) == 2
    assert len(_reminders(request)) == 4


@pytest.mark.django_db
def test_it_stops_once_nobody_may_fill_an_open_slot(overdue_world):
    request, people = overdue_world
    promotion_decide(user=people["bob"], request=request, decision="approve", reason="fine", risk_class="low")
    request.refresh_from_db()
    assert request.status == "promoted"
    assert sla_reminders_send(now=timezone.now() + timedelta(days=3)) == 0
    assert _reminders(request) == []


@pytest.mark.django_db
def test_the_beat_task_runs_the_reminder(overdue_world):
    request, _ = overdue_world
    PromotionRequest.objects.filter(pk=request.pk).update(status_changed_at=timezone.now() - timedelta(hours=30))
    assert promotion_sla_remind_task.apply().get() == 2
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["promotions-sla-reminders"]
    assert entry["task"] == promotion_sla_remind_task.name


@pytest.mark.django_db
def test_each_reminder_is_one_email_to_its_person_naming_the_event(overdue_world):
    from django.core import mail

    from governance.notifications.services import notification_send

    request, people = overdue_world
    day_one = request.status_changed_at + timedelta(hours=25)
    sla_reminders_send(now=day_one)
    sla_reminders_send(now=day_one + timedelta(hours=3))  # the same day: nothing new to send
    for row in Notification.objects.filter(kind="sla_reminder", request=request):
        assert row.escalation and notification_send(notification_id=row.pk) == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == [people["bea"].email, people["bob"].email]
    assert all(m.subject.startswith("[Model governance] Approvals overdue: ") for m in mail.outbox)
    assert all(f"/requests/{request.pk}/" in m.body for m in mail.outbox)
