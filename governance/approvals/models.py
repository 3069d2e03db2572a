"""Promotion requests and the decisions on them. Written only by approvals/services.py."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.core.vocabulary import (
    CHANGE_TYPES,
    DECIDABLE_REQUEST_STATUSES,
    OPEN_REQUEST_STATUSES,
    REQUEST_STATUSES,
    choices,
)
from governance.registry.models import ModelVersion, Stage

ChangeType = models.TextChoices("ChangeType", choices(CHANGE_TYPES))


RequestStatus = models.TextChoices("RequestStatus", choices(REQUEST_STATUSES))
OPEN_STATUSES = tuple(RequestStatus(s) for s in OPEN_REQUEST_STATUSES)
DECIDABLE_STATUSES = tuple(RequestStatus(s) for s in DECIDABLE_REQUEST_STATUSES)


class PromotionRequest(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="promotion_requests")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    change_type = models.CharField(max_length=20, choices=ChangeType.choices, default=ChangeType.STANDARD)
    justification = models.TextField(max_length=5000)
    ticket_id = models.CharField(max_length=100, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=30, choices=RequestStatus.choices, default=RequestStatus.AWAITING_GATES)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    status_reason = models.CharField(max_length=1000, blank=True)
    # Frozen at creation: later policy edits never change this request.
    policy_version = models.ForeignKey(
        "policies.PolicyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    policy_name = models.CharField(max_length=64, blank=True)
    policy_snapshot = models.TextField(blank=True)
    policy_sha256 = models.CharField(max_length=64, blank=True)
    required_approvals = models.JSONField(default=list)  # [{"role": ..., "count": n}]
    required_gates = models.JSONField(default=list)  # gate specs from the policy
    # Emergency changes: which gates were bypassed, until when, and the review deadline.
    bypassed_gates = models.JSONField(default=list)
    bypass_expires_at = models.DateTimeField(null=True, blank=True)
    review_due_at = models.DateTimeField(null=True, blank=True)
    # Approval terms of the policy, frozen too: SLA, ticket format, who else may not approve.
    sla_hours = models.PositiveIntegerField(null=True, blank=True)
    ticket_pattern = models.CharField(max_length=200, blank=True)
    ticket_example = models.CharField(max_length=100, blank=True)
    exclude_from_approval = models.JSONField(default=list, blank=True)
    # The comparison with production when the request was filed: what approvers signed against,
    # readable after the production version has changed.
    comparison = models.JSONField(default=dict, blank=True)
    # Gates run again (a new round) when the evidence changes or the request is resubmitted;
    # approvals given in an earlier round are stale.
    gate_round = models.PositiveIntegerField(default=1)
    # Emergency changes after promotion: the bypassed gates passed on a re-check (resolved), or
    # the bypass expired unresolved and the version went back (reverted).
    bypass_resolved_at = models.DateTimeField(null=True, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)
    # The production version this promotion replaced (for roll back).
    replaced_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(status__in=list(OPEN_REQUEST_STATUSES)),
                name="one_open_request_per_version",
            )
        ]
        indexes = [models.Index(fields=["status", "-requested_at"])]  # inbox

    def __str__(self) -> str:
        return f"#{self.pk} {self.version} {self.from_stage}→{self.to_stage}"

    @property
    def is_open(self) -> bool:
        """Not closed (waiting for gates, decisions or, after changes were requested, its requester)."""
        return self.status in OPEN_STATUSES

    @property
    def is_decidable(self) -> bool:
        return self.status in DECIDABLE_STATUSES

    def ticket_problem(self, ticket_id: str) -> str:
        """Why a decision's ticket ID is refused under this request's frozen policy ("" if fine)."""
        if not self.ticket_pattern:
            return ""
        example = f" (e.g. {self.ticket_example})" if self.ticket_example else ""
        if not ticket_id:
            return f"This policy needs a ticket ID{example}."
        if not re.fullmatch(self.ticket_pattern, ticket_id):
            return (
                f"{ticket_id!r} is not a ticket ID here: they look like {self.ticket_example or self.ticket_pattern}."
            )
        return ""


class DecisionKind(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_CHANGES = "request_changes", "Request changes"


class RiskClass(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Decision(models.Model):
    request = models.ForeignKey(PromotionRequest, on_delete=models.PROTECT, related_name="decisions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=30)
    decision = models.CharField(max_length=20, choices=DecisionKind.choices)
    reason = models.TextField(max_length=5000)
    ticket_id = models.CharField(max_length=100, blank=True)
    risk_class = models.CharField(max_length=10, choices=RiskClass.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # What the approver saw: the request's gate round, and the hash of the evidence files,
    # documents, gate outcomes and frozen policy at that moment (with the parts it covers).
    round = models.PositiveIntegerField(default=1)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    manifest = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One person fills at most one slot of a request.
            models.UniqueConstraint(
                fields=["request", "round", "user"],
                condition=Q(decision="approve"),
                name="one_approval_per_person_and_round",
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} by {self.user} as {self.role}"


class PostIncidentReview(models.Model):
    """Due after an emergency change: what happened, the root cause, the follow-ups.

    Assigned to the model's owners and risk officers when the emergency is promoted; reminded
    before its deadline and escalated after it (notifications), until one of them submits it.
    """

    request = models.OneToOneField(PromotionRequest, on_delete=models.PROTECT, related_name="review")
    due_at = models.DateTimeField()
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    what_happened = models.TextField(blank=True, max_length=5000)
    root_cause = models.TextField(blank=True, max_length=5000)
    follow_ups = models.TextField(blank=True, max_length=5000)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["submitted_at", "due_at"])]  # reminders

    def __str__(self) -> str:
        return f"post-incident review of {self.request}"

    def is_overdue(self, now) -> bool:
        return self.submitted_at is None and now > self.due_at


class GateAcceptance(models.Model):
    """A named person accepts an inconclusive gate outcome (policy `on_inconclusive:
    {accept_by: ROLE}`), with a reason: a decision on that gate run. Tied to the run, so a new
    gate round (new evidence) leaves it behind. Immutable, like decisions."""

    request = models.ForeignKey(PromotionRequest, on_delete=models.PROTECT, related_name="gate_acceptances")
    gate_run = models.ForeignKey("gates.GateRun", on_delete=models.PROTECT, related_name="acceptances")
    gate_id = models.CharField(max_length=64)
    round = models.PositiveIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=30)
    reason = models.TextField(max_length=5000)
    ticket_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A person accepts one gate run once (a second acceptance of a counted one is
            # refused by the service; this stops a double submit racing it).
            models.UniqueConstraint(fields=["gate_run", "user"], name="one_acceptance_per_person_and_run")
        ]

    def __str__(self) -> str:
        return f"{self.gate_id} accepted by {self.user} as {self.role}"
