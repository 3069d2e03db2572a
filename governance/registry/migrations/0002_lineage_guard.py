from django.db import migrations

from governance.audit.dbguard import frozen_columns_sql, guard_operation

LINEAGE_COLUMNS = [
    "model_id", "version", "artifact_uri", "artifact_sha256", "code_hash", "data_snapshot_id",
    "training_config", "training_config_sha256", "seed", "framework", "created_by_id", "created_at",
]


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [guard_operation(frozen_columns_sql, "registry_modelversion", LINEAGE_COLUMNS, "model version lineage")]
