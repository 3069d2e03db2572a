from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from guardian.models import UserObjectPermissionBase

from governance.accounts.roles import ROLE_PERMISSIONS


class Team(models.Model):
    name = models.SlugField(max_length=64, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = ROLE_PERMISSIONS

    def __str__(self) -> str:
        return self.display_name or self.name


class TeamUserObjectPermission(UserObjectPermissionBase):
    """Guardian direct foreign key: a role granted on a team applies to all its models."""

    content_object = models.ForeignKey(Team, on_delete=models.CASCADE)


class ModelUserObjectPermission(UserObjectPermissionBase):
    """Guardian direct foreign key: a role granted on one model only."""

    content_object = models.ForeignKey("registry.RegisteredModel", on_delete=models.CASCADE)


class ApiToken(models.Model):
    """A bearer token for pipelines. Only its sha256 is stored; the clear token is shown once.

    A *personal* token (no teams) acts with all of its user's roles, until it expires if it
    has an expiry. A *service* token is scoped to one or more teams: it acts with its user's
    roles on those teams' models only, carries no staff powers, can never decide on a
    promotion (approvals need a person), and always expires (accounts/permissions.py).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # required for service tokens
    teams = models.ManyToManyField(Team, blank=True, related_name="+")  # empty: a personal token
    # Who issued it: the user, an admin, or a team admin issuing a service token.
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    PREFIX = "gov_"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    @classmethod
    def issue(cls, *, user, name: str = "", expires_at=None, issued_by=None) -> tuple[ApiToken, str]:
        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=key[:12],
            key_hash=cls.hash_key(key),
            expires_at=expires_at,
            issued_by=issued_by,
        )
        return token, key

    def expired(self, now) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class UserSession(models.Model):
    """The browser sessions a user signed in with, so that taking a role away can end them
    (the role is checked on every request anyway; this also ends what a page already holds)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"session of user #{self.user_id}"
