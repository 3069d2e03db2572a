"""Gate runs belong to a round of their request: gates run again when the evidence changes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0004_rounds_manifests_and_approval_terms'),
        ('gates', '0001_initial'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='gaterun',
            name='one_run_per_gate',
        ),
        migrations.AddField(
            model_name='gaterun',
            name='round',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddConstraint(
            model_name='gaterun',
            constraint=models.UniqueConstraint(fields=('request', 'round', 'gate_id'), name='one_run_per_gate_and_round'),
        ),
    ]
