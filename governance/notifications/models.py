"""Events a person should hear about. Recorded in the same transaction as the change;
the notifications issue sends them as email (a row with sent_at=None is unsent)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NotificationKind(models.TextChoices):
    """The email events of DESIGN.md."""

    APPROVAL_NEEDED = "approval_needed", "Approval needed"
    APPROVAL_STALE = "approval_stale", "Approval stale, asked again"
    GATES_FAILED = "gates_failed", "Gates failed"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    DECISION_MADE = "decision_made", "Decision made"
    PROMOTED = "promoted", "Promoted"
    ROLLED_BACK = "rolled_back", "Rolled back"
    SLA_REMINDER = "sla_reminder", "Approvals overdue"
    REVIEW_DUE = "review_due", "Post-incident review due"
    REVIEW_OVERDUE = "review_overdue", "Post-incident review overdue"
    EMERGENCY_REVERTED = "emergency_reverted", "Emergency change reverted"


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    request = models.ForeignKey("approvals.PromotionRequest", on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sent_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient}"
