"""What the API keeps about requests it answered: Idempotency-Key records (idempotency.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """One user's Idempotency-Key: the request's fingerprint and the response it got.

    The unique (user, key) makes a concurrent duplicate wait for the first request's
    transaction and then replay its stored response instead of running again.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    status = models.PositiveSmallIntegerField()
    body = models.TextField()
    content_type = models.CharField(max_length=100)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_user_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
