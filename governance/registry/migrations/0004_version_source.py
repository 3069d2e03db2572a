"""A version's `source` (e.g. the MLflow run it was imported from) is lineage: frozen like
the rest (the guard of 0002 re-created with the new column)."""

from django.db import migrations, models

from governance.audit.dbguard import frozen_columns_sql, reguard_operation

PREVIOUS_LINEAGE_COLUMNS = [
    "model_id", "version", "artifact_uri", "artifact_sha256", "code_hash", "data_snapshot_id",
    "training_config", "training_config_sha256", "seed", "framework", "created_by_id", "created_at",
]
LINEAGE_COLUMNS = [*PREVIOUS_LINEAGE_COLUMNS, "source"]


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_model_role_grants_moved"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="source",
            field=models.JSONField(blank=True, default=dict),
        ),
        reguard_operation(
            frozen_columns_sql,
            "registry_modelversion",
            LINEAGE_COLUMNS,
            "model version lineage",
            previous_args=("registry_modelversion", PREVIOUS_LINEAGE_COLUMNS, "model version lineage"),
        ),
    ]
