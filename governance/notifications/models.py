"""Events a person should hear about, and how each one reaches them by email.

A `Notification` is recorded in the same transaction as the change it reports (through
`services.notify`), one row per recipient, event, request and occurrence (`key`). Delivery
state lives on the row: a Celery task claims it, sends it and records `sent_at`; failures
leave it unsent with `attempts` and `last_error` for the retry and the sweeper.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class NotificationKind(models.TextChoices):
    """The email events of DESIGN.md."""

    APPROVAL_NEEDED = "approval_needed", "Approval needed"
    APPROVAL_STALE = "approval_stale", "Approval needed again"
    GATES_FAILED = "gates_failed", "Gates failed"
    GATE_ACCEPTANCE_NEEDED = "gate_acceptance_needed", "Inconclusive gate to accept"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    DECISION_MADE = "decision_made", "Decision made"
    PROMOTED = "promoted", "Promoted"
    ROLLED_BACK = "rolled_back", "Rolled back"
    SLA_REMINDER = "sla_reminder", "Approvals overdue"
    REVIEW_DUE = "review_due", "Post-incident review due"
    REVIEW_OVERDUE = "review_overdue", "Post-incident review overdue"
    EMERGENCY_REVERTED = "emergency_reverted", "Emergency change reverted"


# Sent as immediate mail whatever the recipient chose (with or without escalation=True).
ESCALATION_KINDS = frozenset({NotificationKind.SLA_REMINDER, NotificationKind.REVIEW_OVERDUE})


class Channel(models.TextChoices):
    """How a notification goes out, fixed when it is recorded."""

    IMMEDIATE = "immediate", "Immediate email"
    DIGEST = "digest", "Daily digest"
    NONE = "none", "Not emailed"  # email turned off, or no address to send to


class EmailPreference(models.TextChoices):
    IMMEDIATELY = "immediately", "Immediately"
    DAILY_DIGEST = "daily_digest", "Daily digest"
    OFF = "off", "Off"


class NotificationPreference(models.Model):
    """How one person wants their emails. No row means the default, immediately."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.CharField(max_length=20, choices=EmailPreference.choices, default=EmailPreference.IMMEDIATELY)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.get_email_display()}"


class Delivery(models.Model):
    """Delivery state of one email: sent, or how often it failed and why."""

    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=1000, blank=True)
    # Claimed by the task sending it (a conditional update); handed to a worker at queued_at.
    claimed_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class NotificationDigest(Delivery):
    """One daily email for one person, listing their digest notifications. One per day."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="one_digest_per_recipient_and_day")]

    def __str__(self) -> str:
        return f"digest of {self.day} for {self.recipient}"


class Notification(Delivery):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    request = models.ForeignKey("approvals.PromotionRequest", on_delete=models.CASCADE, related_name="+")
    # The occurrence of the event: "round-2" for a gate round, a date for a daily reminder.
    key = models.CharField(max_length=100, blank=True, default="")
    message = models.CharField(max_length=1000)
    escalation = models.BooleanField(default=False)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.IMMEDIATE)
    digest = models.ForeignKey(
        NotificationDigest, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One message per recipient and event occurrence, however often the service runs.
            models.UniqueConstraint(
                fields=["recipient", "kind", "request", "key"], name="one_notification_per_occurrence"
            )
        ]
        indexes = [
            # notifications_sweep and digests_create: unsent rows by channel and age.
            models.Index(
                fields=["channel", "created_at"], condition=Q(sent_at__isnull=True), name="notification_unsent_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient}"
