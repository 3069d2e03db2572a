"""Gate rounds, what each approver saw (manifest), and the approval terms a request freezes.

The new terms are frozen like the others; the guards are re-created because SQLite rebuilds
a table to add a column (and drops its triggers with it).
"""

from django.db import migrations, models

from governance.approvals.migrations._guards import FROZEN_BEFORE_0004, REQUEST_FROZEN
from governance.audit.dbguard import append_only_sql, frozen_columns_sql, reguard_operation


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0003_decision_guard'),
    ]

    operations = [
        migrations.AddField(
            model_name='decision',
            name='manifest',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='decision',
            name='manifest_sha256',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='decision',
            name='round',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='promotionrequest',
            name='comparison',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='promotionrequest',
            name='exclude_from_approval',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='promotionrequest',
            name='gate_round',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='promotionrequest',
            name='sla_hours',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='promotionrequest',
            name='ticket_example',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name='promotionrequest',
            name='ticket_pattern',
            field=models.CharField(blank=True, max_length=200),
        ),
        reguard_operation(append_only_sql, "approvals_decision", "decisions"),
        reguard_operation(
            frozen_columns_sql,
            "approvals_promotionrequest",
            REQUEST_FROZEN,
            "the terms of a promotion request",
            previous_args=("approvals_promotionrequest", FROZEN_BEFORE_0004, "the terms of a promotion request"),
        ),
    ]
