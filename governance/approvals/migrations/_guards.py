"""Columns of a promotion request the database refuses to change (its terms), for migrations.

Migration 0003 froze the first set (it keeps its own copy: a migration must not change when
this file does); 0004 added the approval terms."""

FROZEN_BEFORE_0004 = [
    "version_id", "from_stage", "to_stage", "change_type", "justification", "ticket_id", "requested_by_id",
    "requested_at", "policy_version_id", "policy_snapshot", "policy_sha256", "required_approvals", "required_gates",
]
REQUEST_FROZEN = FROZEN_BEFORE_0004 + ["sla_hours", "ticket_pattern", "ticket_example", "exclude_from_approval", "comparison"]
