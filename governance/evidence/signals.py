"""What the evidence layer tells the layers above it, without importing them.

`evidence_changed` is sent inside the transaction that stored a new evidence file or a new
document revision. The promotion service listens (approvals/receivers.py): an open request
on that version runs its gates again, and approvals given on the old evidence go stale.
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: version_id: int, actor: User, what: str (e.g. "predictions evidence uploaded")
evidence_changed = Signal()
