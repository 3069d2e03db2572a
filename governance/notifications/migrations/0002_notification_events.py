"""The email events of DESIGN.md."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('approval_needed', 'Approval needed'), ('approval_stale', 'Approval stale, asked again'), ('gates_failed', 'Gates failed'), ('changes_requested', 'Changes requested'), ('decision_made', 'Decision made'), ('promoted', 'Promoted'), ('rolled_back', 'Rolled back'), ('sla_reminder', 'Approvals overdue'), ('review_due', 'Post-incident review due'), ('review_overdue', 'Post-incident review overdue'), ('emergency_reverted', 'Emergency change reverted')], max_length=30),
        ),
    ]
