
from django.conf import settings
"""A request with changes requested stays open (one open request per version), and one person
approves once per gate round (a stale approver may approve the new round). The guards are
re-created: SQLite rebuilds a table to change its constraints and drops its triggers."""

from django.db import migrations, models

from governance.approvals.migrations import _guards
from governance.audit.dbguard import append_only_sql, frozen_columns_sql, reguard_operation


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0004_rounds_manifests_and_approval_terms'),
        ('policies', '0002_immutable_versions'),
        ('registry', '0003_model_role_grants_moved'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='decision',
            name='one_approval_per_person',
        ),
        migrations.RemoveConstraint(
            model_name='promotionrequest',
            name='one_open_request_per_version',
        ),
        migrations.AddConstraint(
            model_name='decision',
            constraint=models.UniqueConstraint(condition=models.Q(('decision', 'approve')), fields=('request', 'round', 'user'), name='one_approval_per_person_and_round'),
        ),
        migrations.AddConstraint(
            model_name='promotionrequest',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ['awaiting_gates', 'awaiting_approvals', 'changes_requested'])), fields=('version',), name='one_open_request_per_version'),
        ),
        reguard_operation(append_only_sql, "approvals_decision", "decisions"),
        reguard_operation(
            frozen_columns_sql, "approvals_promotionrequest", _guards.REQUEST_FROZEN, "the terms of a promotion request"
        ),
    ]
