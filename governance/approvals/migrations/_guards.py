"""Columns of a promotion request the database refuses to change (its terms), for migrations."""

REQUEST_FROZEN = [
    "version_id", "from_stage", "to_stage", "change_type", "justification", "ticket_id", "requested_by_id",
    "requested_at", "policy_version_id", "policy_snapshot", "policy_sha256", "required_approvals", "required_gates",
    "sla_hours", "ticket_pattern", "ticket_example", "exclude_from_approval", "comparison",
]
