from django.db import migrations

from governance.audit.dbguard import (
    append_only_sql,
    frozen_columns_sql,
    guard_operation,
)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0002_initial")]
    operations = [
        guard_operation(append_only_sql, "evidence_artifact", "evidence artifacts"),
        guard_operation(append_only_sql, "evidence_document", "document revisions"),
        guard_operation(
            frozen_columns_sql,
            "evidence_blob",
            ["sha256", "size", "file"],
            "a stored evidence file",
        ),
    ]
