"""TRUNCATE skips row triggers: refuse it with statement-level triggers (PostgreSQL)."""

from django.db import migrations

from governance.audit.dbguard import guard_operation, no_truncate_sql


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [
        guard_operation(no_truncate_sql, "audit_auditevent", "audit events"),
        guard_operation(no_truncate_sql, "audit_auditchainhead", "the audit chain head"),
    ]
