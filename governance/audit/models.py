"""Append-only, hash-chained audit trail.

Each event's hash covers its own content and the previous event's hash, so editing or
deleting any event breaks the chain from there on (`manage.py verify_audit` finds it).
The database refuses UPDATE and DELETE on the table (triggers in migration 0002) and
TRUNCATE (0003). docs/audit.md: what the chain, the triggers and the outside anchor protect
against, and what they do not.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

USER_AGENT_MAX = 300


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
    # Where a web or API request came from (audit.context); empty for workers and commands.
    # In the digest only when set, so events written before these columns still verify.
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_MAX, blank=True, default="")

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


class AuditChainCheck(models.Model):
    """One run of the chain check asked for on the audit page (a Celery task fills it in)."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(null=True)  # None while queued or running
    checked = models.BigIntegerField(default=0)  # events whose hash was recomputed
    first_bad_seq = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    head_seq = models.BigIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def __str__(self) -> str:
        state = "running" if self.running else ("OK" if self.ok else "BROKEN")
        return f"chain check #{self.pk} ({state})"
