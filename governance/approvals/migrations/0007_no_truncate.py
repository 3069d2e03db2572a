"""Decisions refuse TRUNCATE as they refuse UPDATE and DELETE (statement-level trigger)."""

from django.db import migrations

from governance.audit.dbguard import guard_operation, no_truncate_sql


class Migration(migrations.Migration):
    dependencies = [("approvals", "0006_emergency_lifecycle"), ("audit", "0003_no_truncate")]
    operations = [guard_operation(no_truncate_sql, "approvals_decision", "decisions")]
