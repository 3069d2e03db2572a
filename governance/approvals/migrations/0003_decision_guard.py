from django.db import migrations

from governance.audit.dbguard import append_only_sql, frozen_columns_sql, guard_operation

REQUEST_FROZEN = [
    "version_id", "from_stage", "to_stage", "change_type", "justification", "ticket_id", "requested_by_id",
    "requested_at", "policy_version_id", "policy_snapshot", "policy_sha256", "required_approvals", "required_gates",
]


class Migration(migrations.Migration):
    dependencies = [("approvals", "0002_initial")]
    operations = [
        guard_operation(append_only_sql, "approvals_decision", "decisions"),
        guard_operation(frozen_columns_sql, "approvals_promotionrequest", REQUEST_FROZEN, "the terms of a promotion request"),
    ]
