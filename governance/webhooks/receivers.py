"""Hears every audit event: the ones a webhook may tell of become deliveries after commit.

Every state change writes its audit event inside its own transaction (audit.services),
so listening to the audit trail sees each change exactly once, and only if it commits: a
rolled-back change sends nothing. The work runs in `on_commit` with robust=True: a problem
here is logged and never undoes or fails the change itself.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from governance.audit.models import AuditEvent
from governance.webhooks.events import ACTION_EVENTS

log = logging.getLogger(__name__)


def _create_deliveries(audit_event_id: int) -> None:
    from governance.webhooks.services import deliveries_create_for_event

    deliveries_create_for_event(audit_event_id=audit_event_id)


@receiver(post_save, sender=AuditEvent, dispatch_uid="webhooks.audit_event_saved")
def audit_event_saved(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    if created and instance.action in ACTION_EVENTS:
        transaction.on_commit(partial(_create_deliveries, instance.pk), robust=True)
