"""Role grants on one model move from registry to accounts, which owns every role grant.

The table is renamed, not copied: no grant is lost. Registry's state forgets the model in
its migration 0003, which runs after this one.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("registry", "0002_lineage_guard"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ModelUserObjectPermission",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("permission", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="auth.permission")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
                        (
                            "content_object",
                            models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="registry.registeredmodel"),
                        ),
                    ],
                    options={
                        "abstract": False,
                        "db_table": "registry_modeluserobjectpermission",
                        "unique_together": {("user", "permission", "content_object")},
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="modeluserobjectpermission", table=None),
    ]
