"""Recording what a person should hear about, and emailing it: the one door for notifications.

`notify` runs inside the transaction of the change it reports (the promotion service calls
it), so a notification exists exactly when its change committed. One row per recipient,
event, request and key: calling it twice for the same occurrence records nothing new. After
commit each new immediate notification is handed to a Celery task (`notification_send`),
which claims the row with a conditional update, so a retried or redelivered task sends
nothing twice. Digest notifications wait for the daily digest (`digests_create`,
`digest_send`); `notifications_sweep` re-queues whatever a lost task or a broker outage left
unsent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.notifications import emails
from governance.notifications.models import (
    ESCALATION_KINDS,
    Channel,
    EmailPreference,
    Notification,
    NotificationDigest,
    NotificationKind,
    NotificationPreference,
)

if TYPE_CHECKING:
    from governance.approvals.models import PromotionRequest

log = logging.getLogger(__name__)

SENT = "sent"
SKIPPED = "skipped"  # another task has it, or it is already sent (or gone)
NOT_EMAILED = "not_emailed"


def notify(
    *,
    event: str,
    request: PromotionRequest,
    recipients: Iterable,
    message: str,
    key: str = "",
    escalation: bool = False,
) -> list[Notification]:
    """Record `event` about `request` for each recipient (None and duplicates skipped).

    `key` tells occurrences of one event apart (e.g. the gate round for "approval needed",
    the day for a reminder); the same (recipient, event, request, key) is recorded once.
    `escalation` marks messages that go out whatever the recipient's preference (SLA
    reminders and overdue reviews always are). Returns the rows this call recorded; the
    immediate ones are queued for sending when the surrounding transaction commits.
    """
    kind = NotificationKind(event)  # an unknown event is a programming error: fail loudly
    escalation = escalation or kind in ESCALATION_KINDS
    users = {u.pk: u for u in recipients if u is not None}
    if not users:
        return []
    occurrence = Notification.objects.filter(kind=kind, request=request, key=key)
    already = set(occurrence.filter(recipient_id__in=list(users)).values_list("recipient_id", flat=True))
    preferences = preferences_of(users.keys() - already)
    rows = [
        Notification(
            recipient=user,
            kind=kind,
            request=request,
            key=key,
            message=message[:1000],
            escalation=escalation,
            channel=delivery_channel(
                preference=preferences.get(pk, EmailPreference.IMMEDIATELY),
                escalation=escalation,
                reachable=bool(user.email) and user.is_active,
            ),
        )
        for pk, user in users.items()
        if pk not in already
    ]
    if not rows:
        return []
    # A concurrent call for the same occurrence may have inserted meanwhile: the unique
    # constraint keeps one row, and queueing an existing row again is harmless (the claim).
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    recorded = list(occurrence.filter(recipient_id__in=[r.recipient_id for r in rows]))
    immediate = [n.pk for n in recorded if n.channel == Channel.IMMEDIATE]
    if immediate:
        # robust: a broker outage must not fail the change that was just committed; the
        # sweeper sends what could not be queued.
        transaction.on_commit(partial(notifications_queue, immediate), robust=True)
    return recorded


def delivery_channel(*, preference: str, escalation: bool, reachable: bool) -> Channel:
    """How a notification goes out: escalations immediately whatever the preference."""
    if not reachable:
        return Channel.NONE
    if escalation or preference == EmailPreference.IMMEDIATELY:
        return Channel.IMMEDIATE
    if preference == EmailPreference.DAILY_DIGEST:
        return Channel.DIGEST
    return Channel.NONE


# --- Preferences --------------------------------------------------------------------------


def preferences_of(user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's email preference; users without a row are not in the answer (default)."""
    return dict(NotificationPreference.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "email"))


def preference_get(*, user) -> str:
    return preferences_of([user.pk]).get(user.pk, EmailPreference.IMMEDIATELY)


@transaction.atomic
def preference_set(*, user, email: str) -> NotificationPreference:
    """Save how `user` wants their emails. Turning email off also drops what waits for the
    next digest; choosing immediately leaves it there (it goes with the next digest)."""
    EmailPreference(email)
    preference, _ = NotificationPreference.objects.update_or_create(user=user, defaults={"email": email})
    if email == EmailPreference.OFF:
        Notification.objects.filter(recipient=user, channel=Channel.DIGEST, sent_at__isnull=True).update(
            channel=Channel.NONE
        )
    return preference


# --- Immediate emails ---------------------------------------------------------------------


def notifications_queue(notification_ids: list[int]) -> None:
    """Hand each notification to a worker. A failure to queue is left to the sweeper."""
    from governance.notifications.tasks import notification_send_task

    _queue(Notification, notification_send_task, notification_ids)


def _queue(model, task, ids: list[int]) -> None:
    queued = []
    for row_id in ids:
        try:
            task.delay(row_id)
        except Exception:
            log.exception("could not queue %s %s; the sweeper will retry", model._meta.model_name, row_id)
            continue
        queued.append(row_id)
    model.objects.filter(pk__in=queued).update(queued_at=timezone.now())


def _claim(rows, now: datetime) -> bool:
    """Conditional update: one task at a time sends a row, and a sent one never again; a claim
    older than the hard time limit belongs to a worker that died."""
    claimed = (
        rows.filter(sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=_lost_before(now)))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    return claimed == 1


def _lost_before(now: datetime) -> datetime:
    """A claim older than the hard time limit belongs to a worker that died."""
    return now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def notification_claim(notification_id: int, now: datetime) -> bool:
    return _claim(Notification.objects.filter(pk=notification_id, channel=Channel.IMMEDIATE), now)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def notification_send(*, notification_id: int, now: datetime | None = None) -> str:
    """Send one immediate notification. Safe to call twice: only the claimant sends.

    A failure releases the claim and records the attempt and error, then re-raises, so the
    task retries with backoff; the row stays unsent until a send succeeds.
    """
    now = now or timezone.now()
    if not notification_claim(notification_id, now):
        return SKIPPED
    notification = Notification.objects.select_related(
        "recipient", "request__version__model", "request__requested_by"
    ).get(pk=notification_id)
    recipient = notification.recipient
    if not recipient.email or not recipient.is_active:
        Notification.objects.filter(pk=notification_id).update(
            channel=Channel.NONE, claimed_at=None, last_error="The recipient has no email address or is inactive."
        )
        return NOT_EMAILED
    try:
        emails.notification_message(notification).send()
    except Exception as exc:
        Notification.objects.filter(pk=notification_id, sent_at__isnull=True).update(
            claimed_at=None, queued_at=timezone.now(), last_error=_error_text(exc)
        )
        raise
    Notification.objects.filter(pk=notification_id).update(sent_at=timezone.now(), claimed_at=None)
    return SENT


# --- Daily digest -------------------------------------------------------------------------


def _digest_pending(digest: NotificationDigest, now: datetime):
    """Digest notifications of a person recorded before `now` and in no digest yet, or in
    an earlier digest that failed and is not being sent right now (it is then left empty)."""
    return Notification.objects.filter(
        Q(digest__isnull=True)
        | Q(digest=digest)
        | Q(digest__sent_at__isnull=True, digest__claimed_at__isnull=True)
        | Q(digest__sent_at__isnull=True, digest__claimed_at__lt=_lost_before(now)),
        recipient_id=digest.recipient_id,
        channel=Channel.DIGEST,
        sent_at__isnull=True,
        created_at__lt=now,
    )


def digests_create(*, now: datetime | None = None) -> list[int]:
    """Today's digest for each person with digest notifications waiting; returns the ids of
    those not sent yet. Safe to run twice: one digest per person and day (a constraint)."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    waiting = (
        Notification.objects.filter(channel=Channel.DIGEST, sent_at__isnull=True, created_at__lt=now)
        .order_by()  # no ordering column in the DISTINCT
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    due = []
    for recipient_id in waiting:
        digest, _ = NotificationDigest.objects.get_or_create(recipient_id=recipient_id, day=day)
        if digest.sent_at is None:
            due.append(digest.pk)
    return due


def digests_queue(digest_ids: list[int]) -> None:
    from governance.notifications.tasks import digest_send_task

    _queue(NotificationDigest, digest_send_task, digest_ids)


def digest_claim(digest_id: int, now: datetime) -> bool:
    return _claim(NotificationDigest.objects.filter(pk=digest_id), now)


def digest_send(*, digest_id: int, now: datetime | None = None) -> str:
    """Send one digest: every waiting digest notification of its person, then mark them
    sent. Safe to call twice; a failure is recorded and re-raised like notification_send."""
    now = now or timezone.now()
    if not digest_claim(digest_id, now):
        return SKIPPED
    digest = NotificationDigest.objects.select_related("recipient").get(pk=digest_id)
    _digest_pending(digest, now).update(digest=digest)
    items = list(
        Notification.objects.filter(digest=digest, sent_at__isnull=True).select_related(
            "request__version__model", "request__requested_by"
        )
    )
    recipient = digest.recipient
    if not items or not recipient.email or not recipient.is_active:
        # Nothing left to say (email was turned off meanwhile), or nobody to say it to.
        Notification.objects.filter(digest=digest, sent_at__isnull=True).update(channel=Channel.NONE, digest=None)
        digest.delete()
        return NOT_EMAILED
    try:
        emails.digest_message(digest, items).send()
    except Exception as exc:
        NotificationDigest.objects.filter(pk=digest_id, sent_at__isnull=True).update(
            claimed_at=None, queued_at=timezone.now(), last_error=_error_text(exc)
        )
        raise
    sent_at = timezone.now()
    with transaction.atomic():
        NotificationDigest.objects.filter(pk=digest_id).update(sent_at=sent_at, claimed_at=None)
        Notification.objects.filter(pk__in=[n.pk for n in items]).update(sent_at=sent_at)
    return SENT


# --- The sweeper --------------------------------------------------------------------------


def notifications_sweep(*, now: datetime | None = None) -> int:
    """Re-queue immediate notifications and digests left unsent: never queued (broker down),
    lost with their worker, or out of task retries (SMTP down for a while). Rows older than
    NOTIFICATIONS_RETRY_FOR_HOURS stay unsent, with their last error, for a person to see."""
    now = now or timezone.now()
    quiet = now - timedelta(seconds=settings.NOTIFICATIONS_RETRY_AFTER_SECONDS)
    oldest = now - timedelta(hours=settings.NOTIFICATIONS_RETRY_FOR_HOURS)
    stuck = (
        Q(sent_at__isnull=True)
        & Q(created_at__lt=quiet, created_at__gte=oldest)
        & (Q(queued_at__isnull=True) | Q(queued_at__lt=quiet))
        & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=_lost_before(now)))
    )
    notification_ids = list(
        Notification.objects.filter(stuck, channel=Channel.IMMEDIATE).values_list("pk", flat=True)[:1000]
    )
    digest_ids = list(NotificationDigest.objects.filter(stuck).values_list("pk", flat=True)[:1000])
    notifications_queue(notification_ids)
    digests_queue(digest_ids)
    return len(notification_ids) + len(digest_ids)
