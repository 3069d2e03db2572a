"""Email delivery: one row per occurrence, delivery state, preferences and daily digests.

Rows recorded before emails were sent are kept but never emailed: their channel is "none"
(a burst of old news on deploy helps nobody), and each gets its own key ("legacy-<id>") so
the new one-row-per-occurrence constraint holds for them too.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def key_legacy_rows(apps, schema_editor):
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    Notification = apps.get_model("notifications", "Notification")
    Notification.objects.update(key=Concat(Value("legacy-"), Cast("id", CharField())))


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0004_rounds_manifests_and_approval_terms'),
        ('notifications', '0002_notification_events'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('approval_needed', 'Approval needed'), ('approval_stale', 'Approval needed again'), ('gates_failed', 'Gates failed'), ('changes_requested', 'Changes requested'), ('decision_made', 'Decision made'), ('promoted', 'Promoted'), ('rolled_back', 'Rolled back'), ('sla_reminder', 'Approvals overdue'), ('review_due', 'Post-incident review due'), ('review_overdue', 'Post-incident review overdue'), ('emergency_reverted', 'Emergency change reverted')], max_length=30),
        ),
        migrations.CreateModel(
            name='NotificationDigest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('last_error', models.CharField(blank=True, max_length=1000)),
                ('claimed_at', models.DateTimeField(blank=True, null=True)),
                ('queued_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-day'],
            },
        ),
        migrations.CreateModel(
            name='NotificationPreference',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.CharField(choices=[('immediately', 'Immediately'), ('daily_digest', 'Daily digest'), ('off', 'Off')], default='immediately', max_length=20)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RemoveIndex(
            model_name='notification',
            name='notificatio_sent_at_13cbdb_idx',
        ),
        migrations.AddField(
            model_name='notification',
            name='attempts',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='notification',
            name='channel',
            field=models.CharField(choices=[('immediate', 'Immediate email'), ('digest', 'Daily digest'), ('none', 'Not emailed')], default='none', max_length=10),
        ),
        migrations.AlterField(
            model_name='notification',
            name='channel',
            field=models.CharField(choices=[('immediate', 'Immediate email'), ('digest', 'Daily digest'), ('none', 'Not emailed')], default='immediate', max_length=10),
        ),
        migrations.AddField(
            model_name='notification',
            name='claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='notification',
            name='escalation',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='notification',
            name='key',
            field=models.CharField(blank=True, default='', max_length=100),
        ),
        migrations.AddField(
            model_name='notification',
            name='last_error',
            field=models.CharField(blank=True, max_length=1000),
        ),
        migrations.AddField(
            model_name='notification',
            name='queued_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='notificationdigest',
            name='recipient',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='notification',
            name='digest',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='notifications', to='notifications.notificationdigest'),
        ),
        migrations.RunPython(key_legacy_rows, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('sent_at__isnull', True)), fields=['channel', 'created_at'], name='notification_unsent_idx'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(fields=('recipient', 'kind', 'request', 'key'), name='one_notification_per_occurrence'),
        ),
        migrations.AddField(
            model_name='notificationpreference',
            name='user',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='notification_preference', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='notificationdigest',
            constraint=models.UniqueConstraint(fields=('recipient', 'day'), name='one_digest_per_recipient_and_day'),
        ),
    ]
