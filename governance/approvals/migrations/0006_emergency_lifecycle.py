"""Emergency changes after promotion (resolved or reverted) and post-incident reviews. The
request's guard is re-created: SQLite rebuilds the table to add a column."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from governance.approvals.migrations import _guards
from governance.audit.dbguard import frozen_columns_sql, reguard_operation


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0005_changes_requested_stays_open'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='promotionrequest',
            name='bypass_resolved_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='promotionrequest',
            name='reverted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name='PostIncidentReview',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('due_at', models.DateTimeField()),
                ('what_happened', models.TextField(blank=True, max_length=5000)),
                ('root_cause', models.TextField(blank=True, max_length=5000)),
                ('follow_ups', models.TextField(blank=True, max_length=5000)),
                ('submitted_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('assignees', models.ManyToManyField(related_name='+', to=settings.AUTH_USER_MODEL)),
                ('request', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='review', to='approvals.promotionrequest')),
                ('submitted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['submitted_at', 'due_at'], name='approvals_p_submitt_3c6b9c_idx')],
            },
        ),
        reguard_operation(
            frozen_columns_sql, "approvals_promotionrequest", _guards.REQUEST_FROZEN, "the terms of a promotion request"
        ),
    ]
