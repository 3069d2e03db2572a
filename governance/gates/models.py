"""One GateRun per policy gate of a promotion request; its outcome is the DESIGN.md JSON."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class GateStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    INCONCLUSIVE = "inconclusive", "Inconclusive"  # the data cannot tell; never a pass
    ERROR = "error", "Error"
    BYPASSED = "bypassed", "Bypassed"


FINAL_GATE_STATUSES = (
    GateStatus.PASSED,
    GateStatus.FAILED,
    GateStatus.INCONCLUSIVE,
    GateStatus.ERROR,
    GateStatus.BYPASSED,
)


class GateRunQuerySet(models.QuerySet):
    def current(self) -> GateRunQuerySet:
        """Runs of their request's current round (earlier rounds are history)."""
        return self.filter(round=models.F("request__gate_round"))


class GateRun(models.Model):
    request = models.ForeignKey("approvals.PromotionRequest", on_delete=models.PROTECT, related_name="gate_runs")
    gate_id = models.CharField(max_length=64)
    gate_type = models.CharField(max_length=30)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=GateStatus.choices, default=GateStatus.PENDING)
    outcome = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written by the running gate every GATE_HEARTBEAT_SECONDS: a stale one means its worker died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    round = models.PositiveIntegerField(default=1)  # the request's gate round this run belongs to

    objects = GateRunQuerySet.as_manager()

    class Meta:
        ordering = ["request_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "round", "gate_id"], name="one_run_per_gate_and_round")
        ]
        indexes = [models.Index(fields=["status", "dispatched_at"])]  # gate_sweep

    def __str__(self) -> str:
        return f"{self.gate_id} ({self.status})"


class DryRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    TIMED_OUT = "timed_out", "Timed out"  # the worker's time limit ran out
    ERROR = "error", "Error"


DRY_RUN_FINAL_STATUSES = (DryRunStatus.DONE, DryRunStatus.TIMED_OUT, DryRunStatus.ERROR)


class DryRunVerdict(models.TextChoices):
    PASS = "pass", "Would pass"
    FAIL = "fail", "Would fail"
    INCONCLUSIVE = "inconclusive", "Inconclusive"  # no gate failed, but the data cannot tell for one


class DryRun(models.Model):
    """One dry run (gates/dry_run.py): would this version pass its policy's gates for a
    transition? Computed by a worker; creates no request, no gate run, no decision."""

    version = models.ForeignKey("registry.ModelVersion", on_delete=models.CASCADE, related_name="+")
    from_stage = models.CharField(max_length=20)
    to_stage = models.CharField(max_length=20)
    policy_name = models.CharField(max_length=200, blank=True)  # empty: the policy that applies
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=DryRunStatus.choices, default=DryRunStatus.QUEUED)
    verdict = models.CharField(max_length=12, choices=DryRunVerdict.choices, blank=True)
    result = models.JSONField(null=True, blank=True)  # gates[outcome], approvals, problems, policy
    error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"dry run #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in DRY_RUN_FINAL_STATUSES
