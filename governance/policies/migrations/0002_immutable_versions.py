from django.db import migrations

from governance.audit.dbguard import append_only_sql, guard_operation


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]
    operations = [guard_operation(append_only_sql, "policies_policyversion", "policy versions")]
