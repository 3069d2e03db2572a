"""A third decision, `inconclusive` (the data cannot tell), is final like passed and failed:
the database guard of migration 0003 is replaced by one that also refuses any UPDATE of an
inconclusive run (the gate.finished audit event records it like any final outcome)."""

from django.db import migrations, models

from governance.audit.dbguard import final_rows_sql, run_sql

TABLE = "gates_gaterun"
LABEL = "gate outcomes"
FINAL_BEFORE = ["passed", "failed", "error", "bypassed"]
FINAL = ["passed", "failed", "inconclusive", "error", "bypassed"]


def _replace(schema_editor, old: list[str], new: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    drop = final_rows_sql(vendor, TABLE, "status", old, LABEL)[1]
    create = final_rows_sql(vendor, TABLE, "status", new, LABEL)[0]
    run_sql(schema_editor, drop + create)


def forward(apps, schema_editor):
    _replace(schema_editor, FINAL_BEFORE, FINAL)


def backward(apps, schema_editor):
    _replace(schema_editor, FINAL, FINAL_BEFORE)


class Migration(migrations.Migration):
    atomic = True
    dependencies = [("gates", "0003_final_outcomes")]
    operations = [
        migrations.AlterField(
            model_name="gaterun",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("running", "Running"),
                    ("passed", "Passed"),
                    ("failed", "Failed"),
                    ("inconclusive", "Inconclusive"),
                    ("error", "Error"),
                    ("bypassed", "Bypassed"),
                ],
                default="pending",
                max_length=20,
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
