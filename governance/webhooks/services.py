"""The one door for webhooks and their deliveries.

Registering, editing, rotating a secret, deleting and redelivering check permission
(`accounts.permissions`, action manage_webhooks on the team), validate, write the change and
its audit event in one transaction. Deliveries are created after the change they tell of
commits (receivers.py), sent by a Celery task that claims its row with a conditional update
(so a redelivered or duplicated task never sends twice at once), and retried with
exponential backoff; a beat sweeper re-queues what a lost task or broker left behind.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.accounts.permissions import user_may_on_team
from governance.accounts.roles import Action
from governance.audit.models import AuditEvent
from governance.audit.services import audit_record
from governance.core.errors import DomainError
from governance.webhooks import events as ev
from governance.webhooks import sender, signing
from governance.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Webhook
from governance.webhooks.targets import TargetError, target_check

log = logging.getLogger(__name__)

SKIPPED, DELIVERED, RETRYING, FAILED = "skipped", "delivered", "retrying", "failed"
MAX_DESCRIPTION = 200
CLAIM_SLACK = timedelta(seconds=2)  # a task may start a little before its countdown ends


class WebhookError(DomainError):
    pass


def _ensure_may(user, team) -> None:
    if not user_may_on_team(user, Action.MANAGE_WEBHOOKS, team):
        raise PermissionDenied("Managing this team's webhooks needs the model_owner or mlops role on the team.")


def _clean_events(events) -> list[str]:
    if not isinstance(events, (list, tuple)) or not events:
        raise WebhookError("Pick at least one event to send.", field="events")
    unknown = [str(e) for e in events if e not in ev.EVENT_TYPES]
    if unknown:
        raise WebhookError(
            f"Unknown event type(s): {', '.join(unknown)}; choose from {', '.join(ev.EVENT_TYPES)}.", field="events"
        )
    return [e for e in ev.EVENT_TYPES if e in events]  # the vocabulary's order, no duplicates


def _clean_description(description: str) -> str:
    description = " ".join((description or "").split())
    if len(description) > MAX_DESCRIPTION:
        raise WebhookError(f"Keep the description under {MAX_DESCRIPTION} characters.", field="description")
    return description


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    target_check(url)
    return url


def _validated(url: str, events, description: str) -> tuple[str, list[str], str]:
    """All three fields checked together, so a form or API answer names every bad field."""
    problems: dict[str, list[str]] = {}
    cleaned: dict = {}
    for field, clean, value in (
        ("url", _clean_url, url),
        ("events", _clean_events, events),
        ("description", _clean_description, description),
    ):
        try:
            cleaned[field] = clean(value)
        except DomainError as exc:
            problems[field] = exc.fields.get(field, [exc.message])
    if problems:
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in problems.items())
        raise WebhookError(message, fields=problems)
    return cleaned["url"], cleaned["events"], cleaned["description"]


def _audit_data(webhook: Webhook, **extra) -> dict:
    return {"team": webhook.team.name, "url": webhook.url, "events": webhook.events, **extra}


@transaction.atomic
def webhook_create(*, user, team, url: str, events, description: str = "") -> tuple[Webhook, str]:
    """Register a webhook; returns it and its secret, which is never shown again."""
    _ensure_may(user, team)
    url, events, description = _validated(url, events, description)
    secret = signing.secret_new()
    webhook = Webhook.objects.create(
        team=team,
        url=url,
        events=events,
        description=description,
        secret=secret,
        secret_prefix=secret[: signing.SHOWN_PREFIX],
        created_by=user,
    )
    audit_record(actor=user, action="webhook.registered", obj=webhook, data=_audit_data(webhook))
    return webhook, secret


@transaction.atomic
def webhook_update(
    *, user, webhook: Webhook, url: str | None = None, events=None, description: str | None = None, active=None
) -> Webhook:
    """Change the URL, events, description or active flag; unchanged fields may be left None."""
    webhook = Webhook.objects.select_for_update().select_related("team").get(pk=webhook.pk)
    _ensure_may(user, webhook.team)
    if active is not None and not isinstance(active, bool):
        raise WebhookError("active is true or false.", field="active")
    if url is None and events is None and description is None and active is False:
        url, events, description = webhook.url, webhook.events, webhook.description  # switching off always works
    else:  # the stored URL is checked again: its host may resolve elsewhere by now
        url, events, description = _validated(
            webhook.url if url is None else url,
            webhook.events if events is None else events,
            webhook.description if description is None else description,
        )
    new = {"url": url, "events": events, "description": description}
    if active is not None:
        new["active"] = active
    changed = {k: v for k, v in new.items() if getattr(webhook, k) != v}
    if not changed:
        return webhook
    before = {k: getattr(webhook, k) for k in changed}
    for key, value in changed.items():
        setattr(webhook, key, value)
    webhook.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=user,
        action="webhook.updated",
        obj=webhook,
        data=_audit_data(webhook, changed=sorted(changed), before=before),
    )
    return webhook


@transaction.atomic
def webhook_rotate_secret(*, user, webhook: Webhook) -> tuple[Webhook, str]:
    """A new secret, effective for the next attempt of every delivery; the old one stops at once."""
    webhook = Webhook.objects.select_for_update().select_related("team").get(pk=webhook.pk)
    _ensure_may(user, webhook.team)
    secret = signing.secret_new()
    previous = webhook.secret_prefix
    webhook.secret, webhook.secret_prefix = secret, secret[: signing.SHOWN_PREFIX]
    webhook.secret_rotated_at = timezone.now()
    webhook.save(update_fields=["secret", "secret_prefix", "secret_rotated_at", "updated_at"])
    audit_record(
        actor=user,
        action="webhook.secret_rotated",
        obj=webhook,
        data=_audit_data(webhook, previous_prefix=previous, new_prefix=webhook.secret_prefix),
    )
    return webhook, secret


@transaction.atomic
def webhook_delete(*, user, webhook: Webhook) -> None:
    """Remove the webhook and its delivery log; the audit trail keeps what it was."""
    webhook = Webhook.objects.select_for_update().select_related("team").get(pk=webhook.pk)
    _ensure_may(user, webhook.team)
    count = webhook.deliveries.count()
    audit_record(actor=user, action="webhook.deleted", obj=webhook, data=_audit_data(webhook, deliveries=count))
    webhook.delete()


@transaction.atomic
def delivery_redeliver(*, user, delivery: Delivery) -> Delivery:
    """Send the same event again (same event id and payload), as a new delivery in the log."""
    original = Delivery.objects.select_related("webhook__team").get(pk=delivery.pk)
    webhook = original.webhook
    _ensure_may(user, webhook.team)
    if not webhook.active:
        raise WebhookError("This webhook is inactive; activate it before redelivering.", code="invalid_state")
    again = Delivery.objects.create(
        webhook=webhook,
        event_type=original.event_type,
        event_id=original.event_id,
        audit_seq=original.audit_seq,
        payload=original.payload,
        next_attempt_at=timezone.now(),
        redelivery_of=original.redelivery_of or original,
        requested_by=user,
    )
    audit_record(
        actor=user,
        action="webhook.redelivered",
        obj=webhook,
        data=_audit_data(
            webhook,
            delivery=original.pk,
            redelivery=again.pk,
            event_id=original.event_id,
            event_type=original.event_type,
        ),
    )
    transaction.on_commit(lambda: deliveries_queue([again.pk]))
    return again


@transaction.atomic
def webhook_ping(*, user, webhook: Webhook) -> Delivery:
    """A test event to this webhook alone, to check the receiver and its signature check."""
    webhook = Webhook.objects.select_related("team").get(pk=webhook.pk)
    _ensure_may(user, webhook.team)
    if not webhook.active:
        raise WebhookError("This webhook is inactive; activate it before sending a test event.", code="invalid_state")
    now = timezone.now()
    event_id = f"evt_test_{secrets.token_hex(12)}"
    payload = ev.event_payload(
        event_id=event_id,
        event_type=ev.TEST_EVENT,
        created_at=now,
        team=webhook.team.name,
        actor=user.get_username(),
        action=ev.TEST_EVENT,
        data={"message": "A test event: if your receiver verified its signature, the webhook works."},
    )
    delivery = Delivery.objects.create(
        webhook=webhook,
        event_type=ev.TEST_EVENT,
        event_id=event_id,
        payload=payload,
        next_attempt_at=now,
        requested_by=user,
    )
    audit_record(actor=user, action="webhook.pinged", obj=webhook, data=_audit_data(webhook, delivery=delivery.pk))
    transaction.on_commit(lambda: deliveries_queue([delivery.pk]))
    return delivery


# --- From audit events to deliveries ------------------------------------------------------


def deliveries_create_for_event(*, audit_event_id: int) -> list[int]:
    """After the change commits: one delivery per active webhook of the event's team that
    subscribed to its type, then queue them. Safe to run twice (one delivery per event)."""
    event = AuditEvent.objects.filter(pk=audit_event_id).first()
    if event is None or event.action not in ev.ACTION_EVENTS:
        return []
    if not Webhook.objects.filter(active=True).exists():  # the common case costs one query
        return []
    event_type = ev.ACTION_EVENTS[event.action]
    subject = ev.subject_of(event)
    if subject is None or subject.team_id is None:
        return []
    hooks = [
        hook
        for hook in Webhook.objects.filter(team_id=subject.team_id, active=True).select_related("team")
        if event_type in hook.events
    ]
    if not hooks:
        return []
    event_id = ev.event_id_of(event)
    now = timezone.now()
    created = []
    for hook in hooks:
        payload = ev.event_payload(
            event_id=event_id,
            event_type=event_type,
            created_at=event.created_at,
            team=hook.team.name,
            actor=event.actor_label,
            action=event.action,
            data=subject.payload,
        )
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    webhook=hook,
                    event_type=event_type,
                    event_id=event_id,
                    audit_seq=event.seq,
                    payload=payload,
                    next_attempt_at=now,
                )
        except IntegrityError:  # already created for this event (the receiver ran twice)
            continue
        created.append(delivery.pk)
    deliveries_queue(created)
    return created


def deliveries_queue(delivery_ids: list[int], *, countdown: float = 0) -> None:
    """Hand deliveries to workers. A failure to queue (broker down) is left to the sweeper."""
    from governance.webhooks.tasks import webhook_deliver_task

    queued = []
    for delivery_id in delivery_ids:
        try:
            webhook_deliver_task.apply_async((delivery_id,), countdown=countdown or None)
        except Exception:
            log.exception("could not queue webhook delivery %s; the sweeper will", delivery_id)
            continue
        queued.append(delivery_id)
    if queued:
        Delivery.objects.filter(pk__in=queued).update(queued_at=timezone.now())


# --- Sending --------------------------------------------------------------------------------


def _lease() -> timedelta:
    """A claim older than the task's hard time limit belongs to a worker that died."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def delivery_claim(delivery_id: int, now: datetime) -> bool:
    due = Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now + CLAIM_SLACK)
    abandoned = Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - _lease())
    claimed = (
        Delivery.objects.filter(pk=delivery_id)
        .filter(due | abandoned)
        .update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    return claimed == 1


def retry_delay(attempts_made: int) -> int:
    """Seconds before attempt n+1 after n failed: base, 2·base, 4·base, ... capped below the
    broker's visibility timeout (or Redis would hand the waiting task to a second worker)."""
    cap = min(settings.WEBHOOK_RETRY_MAX_SECONDS, settings.CELERY_VISIBILITY_TIMEOUT // 2)
    return int(min(cap, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts_made - 1)))


def _retryable(answer: sender.Answer) -> bool:
    """No answer, a server error, 408 or 429: try again. A redirect or another 4xx says the
    request itself is refused; sending it again would not help (redeliver by hand after a fix)."""
    if answer.status is None:
        return True
    return answer.status >= 500 or answer.status in (408, 429)


def _timeout() -> float:
    # Below the task's soft time limit, with room to record the attempt.
    return max(1.0, min(settings.WEBHOOK_TIMEOUT_SECONDS, settings.CELERY_TASK_SOFT_TIME_LIMIT - 2))


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> str:
    """One attempt of one delivery, by whoever claims it; records it, then schedules the next
    attempt, or finishes the delivery as delivered or failed."""
    now = now or timezone.now()
    if not delivery_claim(delivery_id, now):
        return SKIPPED
    delivery = Delivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook = delivery.webhook
    number = delivery.attempts
    started_at = timezone.now()
    if not webhook.active:
        answer = sender.Answer(None, "", 0, "The webhook was deactivated; not sent.")
        retry = False
    else:
        try:
            target = target_check(webhook.url)
        except TargetError as exc:
            answer, retry = sender.Answer(None, "", 0, f"Refused target: {exc.message}"), False
        else:
            body = signing.body_bytes(delivery.payload)
            headers = {
                signing.SIGNATURE_HEADER: signing.signature_header(webhook.secret, int(time.time()), body),
                signing.EVENT_ID_HEADER: delivery.event_id,
                signing.EVENT_TYPE_HEADER: delivery.event_type,
                signing.DELIVERY_HEADER: str(delivery.pk),
            }
            answer = sender.post(target, body, headers, timeout=_timeout())
            retry = _retryable(answer)
    return _record(delivery, number, started_at, answer, retry)


def _record(delivery: Delivery, number: int, started_at: datetime, answer: sender.Answer, retry: bool) -> str:
    finished = timezone.now()
    if answer.ok:
        status, outcome = DeliveryStatus.DELIVERED, DELIVERED
    elif retry and number < settings.WEBHOOK_MAX_ATTEMPTS:
        status, outcome = DeliveryStatus.PENDING, RETRYING
    else:
        status, outcome = DeliveryStatus.FAILED, FAILED
    error = answer.error
    if not answer.ok and not error and answer.status is not None:
        error = f"The receiver answered {answer.status}."
    if outcome == FAILED and retry:
        error = f"{error} Gave up after {number} attempts."
    delay = retry_delay(number) if outcome == RETRYING else 0
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started_at,
            duration_ms=answer.duration_ms,
            response_code=answer.status,
            response_excerpt=answer.excerpt[:1000],
            error=error[:1000],
        )
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=status,
            claimed_at=None,
            response_code=answer.status,
            response_excerpt=answer.excerpt[:1000],
            duration_ms=answer.duration_ms,
            error=error[:1000],
            next_attempt_at=finished + timedelta(seconds=delay),
            finished_at=finished if outcome in (DELIVERED, FAILED) else None,
        )
        if outcome == RETRYING:
            transaction.on_commit(lambda: deliveries_queue([delivery.pk], countdown=delay))
    return outcome


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Re-queue deliveries left behind: due for a while but never picked up (broker down, a
    lost countdown), or claimed by a worker that died. Sending twice is prevented by the claim."""
    now = now or timezone.now()
    quiet = now - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    stuck = Q(status=DeliveryStatus.PENDING, next_attempt_at__lt=quiet) & (
        Q(queued_at__isnull=True) | Q(queued_at__lt=quiet)
    )
    lost = Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - _lease())
    ids = list(Delivery.objects.filter(stuck | lost).values_list("pk", flat=True)[:1000])
    deliveries_queue(ids)
    return len(ids)
