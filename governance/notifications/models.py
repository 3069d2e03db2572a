"""Events a person should hear about. Recorded in the same transaction as the change;
the notifications issue sends them as email (a row with sent_at=None is unsent)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NotificationKind(models.TextChoices):
    APPROVAL_PENDING = "approval_pending", "Approval pending"
    GATES_FAILED = "gates_failed", "Gates failed"
    REQUEST_DECIDED = "request_decided", "Request decided"
    PROMOTED = "promoted", "Promoted"


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
