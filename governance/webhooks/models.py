"""Webhooks a team registers, and the log of every delivery to them.

Written only by webhooks/services.py. The secret is kept in clear because signing needs it
(HMAC, not a hash we could compare): pages and the API show it once, when it is created or
rotated, and afterwards only its first characters (docs/webhooks.md, docs/security.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its (next) attempt
    SENDING = "sending", "Sending"  # claimed by a worker
    DELIVERED = "delivered", "Delivered"  # the receiver answered 2xx
    FAILED = "failed", "Failed"  # out of attempts, or refused for good (bad target)


class Webhook(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="webhooks")
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)  # event types (webhooks.events.EVENT_TYPES)
    secret = models.CharField(max_length=100)
    secret_prefix = models.CharField(max_length=16)  # shown after creation, to tell secrets apart
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team", "pk"]
        indexes = [models.Index(fields=["team", "active"])]  # receivers.py: the team's active hooks

    def __str__(self) -> str:
        return f"webhook #{self.pk} → {self.url}"


class Delivery(models.Model):
    """One event for one webhook: sent until the receiver answers 2xx or attempts run out.
    A redelivery by hand is a new row with the same event id (receivers deduplicate on it)."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    event_id = models.CharField(max_length=64)
    audit_seq = models.BigIntegerField(null=True, blank=True)  # the audit event it tells of
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)  # of the last attempt
    response_excerpt = models.CharField(max_length=1000, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    redelivery_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One automatic delivery per event and webhook, however often the receiver runs.
            models.UniqueConstraint(
                fields=["webhook", "event_id"], condition=Q(redelivery_of__isnull=True), name="one_delivery_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["webhook", "-created_at"]),  # the delivery log
            models.Index(fields=["status", "next_attempt_at"]),  # the sweeper
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} of {self.event_type} {self.event_id}"

    @property
    def finished(self) -> bool:
        return self.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery: when, how long, what came back."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=1000, blank=True)
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="one_row_per_attempt")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery #{self.delivery_id}"
