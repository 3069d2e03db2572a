"""What the gate layer tells the layers above it, without importing them.

`gates_finished` is sent once every gate run of a request is final (passed, failed,
inconclusive, error or bypassed), inside the transaction that finished the last one. The promotion service
listens (approvals/receivers.py) and moves the request on; gates never import approvals.
Receivers must be idempotent: the final step may run more than once (retries, the sweeper).
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: request_id: int, failed, errored, inconclusive: list[str] (gate ids). An inconclusive
# gate never counts as a pass.
gates_finished = Signal()
