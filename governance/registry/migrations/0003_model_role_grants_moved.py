"""Role grants on one model now belong to accounts (its migration 0002 renamed the table).

`RegisteredModel.owners` goes too: ownership is the model_owner role, nothing read it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_model_role_grants"),
        ("registry", "0002_lineage_guard"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ModelUserObjectPermission")],
            database_operations=[],
        ),
        migrations.RemoveField(model_name="registeredmodel", name="owners"),
    ]
