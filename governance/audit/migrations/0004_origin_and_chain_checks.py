"""Where each event's request came from (IP, user agent), and the chain checks run from the
audit page. The append-only guard is re-created: SQLite rebuilds the table to add a column."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from governance.audit.dbguard import append_only_sql, reguard_operation


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_no_truncate"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="ip",
            field=models.GenericIPAddressField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="user_agent",
            field=models.CharField(blank=True, default="", max_length=300),
        ),
        reguard_operation(append_only_sql, "audit_auditevent", "audit events"),
        migrations.CreateModel(
            name="AuditChainCheck",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("requested_at", models.DateTimeField()),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("ok", models.BooleanField(null=True)),
                ("checked", models.BigIntegerField(default=0)),
                ("first_bad_seq", models.BigIntegerField(blank=True, null=True)),
                ("reason", models.TextField(blank=True)),
                ("head_seq", models.BigIntegerField(blank=True, null=True)),
                ("head_hash", models.CharField(blank=True, max_length=64)),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-requested_at", "-pk"],
            },
        ),
    ]
