"""Evidence artifacts and document revisions refuse TRUNCATE as they refuse UPDATE and DELETE."""

from django.db import migrations

from governance.audit.dbguard import guard_operation, no_truncate_sql


class Migration(migrations.Migration):
    dependencies = [("evidence", "0003_immutable_evidence"), ("audit", "0003_no_truncate")]
    operations = [
        guard_operation(no_truncate_sql, "evidence_artifact", "evidence artifacts"),
        guard_operation(no_truncate_sql, "evidence_document", "document revisions"),
    ]
