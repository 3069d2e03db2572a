"""Append-only, hash-chained audit trail.

Each event's hash covers its own content and the previous event's hash, so editing or
deleting any event breaks the chain from there on (`manage.py verify_audit` finds it).
The database refuses UPDATE and DELETE on the table (triggers in migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200)  # username at the time, or "system"
    action = models.CharField(max_length=100)  # namespaced: promotion.approved
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    model_name = models.CharField(max_length=100, blank=True)  # the registered model, for filtering
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            # audit page and /api/v1/audit/?model=&since=
            models.Index(fields=["model_name", "seq"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"


class AuditChainHead(models.Model):
    """One row; locked by every writer so sequence numbers and hashes never fork."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
