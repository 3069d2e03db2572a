"""Registered models and their versions.

A version's lineage (artifact, code, data, config, seed) is fixed at registration: the
model layer refuses to change it and a database trigger (migration 0002) refuses it too.
A corrected version is a new version. The stage changes only through approvals/services.py.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from governance.accounts.roles import ROLE_PERMISSIONS
from governance.core.vocabulary import RISK_TIERS, STAGES, choices

# Choices from the one vocabulary: RiskTier.REGULATED == "regulated", Stage.DRAFT == "draft".
RiskTier = models.TextChoices("RiskTier", choices(RISK_TIERS))
Stage = models.TextChoices("Stage", choices(STAGES))


model_name_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{1,99}$",
    "Use 2-100 lowercase letters, digits, '-' or '_', starting with a letter or digit.",
)
sha256_validator = RegexValidator(r"^[0-9a-f]{64}$", "Expected 64 lowercase hex characters (sha256).")


class RegisteredModel(models.Model):
    name = models.CharField(max_length=100, unique=True, validators=[model_name_validator])
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="models")
    risk_tier = models.CharField(max_length=20, choices=RiskTier.choices, default=RiskTier.MEDIUM)
    domain = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = ROLE_PERMISSIONS
        indexes = [models.Index(fields=["team", "risk_tier"])]  # model list filters

    def __str__(self) -> str:
        return self.name


IMMUTABLE_FIELDS = (
    "model_id",
    "version",
    "artifact_uri",
    "artifact_sha256",
    "code_hash",
    "data_snapshot_id",
    "training_config",
    "training_config_sha256",
    "seed",
    "framework",
    "source",
    "created_by_id",
    "created_at",
)


class ModelVersion(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    artifact_uri = models.CharField(max_length=1000)
    artifact_sha256 = models.CharField(max_length=64, validators=[sha256_validator])
    code_hash = models.CharField(max_length=100, blank=True)
    data_snapshot_id = models.CharField(max_length=200, blank=True)
    training_config = models.JSONField(default=dict, blank=True)
    training_config_sha256 = models.CharField(max_length=64, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    framework = models.CharField(max_length=100, blank=True)
    # Where the version was trained, when another system recorded it: {"mlflow": {"run_id",
    # "experiment_id", "tracking_uri", "artifact_uri", ...}} (imports/mlflow.py); {} otherwise.
    source = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.DRAFT)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    # Share of live traffic while a production version runs as a canary (monitoring issue).
    traffic_percent = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["model_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="version_unique_per_model"),
            models.UniqueConstraint(
                fields=["model"], condition=Q(stage="production"), name="one_production_version_per_model"
            ),
        ]
        indexes = [models.Index(fields=["model", "stage"])]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            stored = ModelVersion.objects.filter(pk=self.pk).values(*IMMUTABLE_FIELDS).first()
            if stored is not None:
                changed = [f for f in IMMUTABLE_FIELDS if f != "created_at" and stored[f] != getattr(self, f)]
                if changed:
                    raise ValidationError(
                        f"Lineage of {self} is immutable ({', '.join(changed)}); register a new version instead."
                    )
        super().save(*args, **kwargs)
