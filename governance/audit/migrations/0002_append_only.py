from django.db import migrations

from governance.audit.dbguard import append_only_sql, guard_operation


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [guard_operation(append_only_sql, "audit_auditevent", "audit events")]
