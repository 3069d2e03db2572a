"""The one way to write an audit event: `audit_record`, inside the caller's transaction."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from governance.audit.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
_SECRET_KEY = re.compile(r"(password|secret|token|api[_-]?key|private[_-]?key|credential)", re.I)


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("***" if _SECRET_KEY.search(str(k)) else _mask(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask(v) for v in value]
    return value


def event_digest(
    *,
    seq: int,
    created_at,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    model_name: str,
    data: dict,
    prev_hash: str,
) -> str:
    payload = {
        "seq": seq,
        "created_at": created_at.isoformat(),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "model_name": model_name,
        "data": data,
        "prev_hash": prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    model_name: str = "",
    data: dict | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the transaction that makes the change it records."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TypeError("audit data must be a dict")
    if "." not in action:
        raise ValueError("audit actions are namespaced, e.g. 'promotion.approved'")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    # Round-trip through JSON so the stored form and the hashed form are identical.
    clean = json.loads(json.dumps(_mask(data), default=str))
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    seq = head.last_seq + 1
    fields = {
        "seq": seq,
        "created_at": timezone.now(),
        "actor_id": actor.pk if actor is not None else None,
        "actor_label": actor.get_username() if actor is not None else "system",
        "action": action,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "model_name": model_name,
        "data": clean,
        "prev_hash": head.last_hash,
    }
    digest = event_digest(**fields)  # the stored row is exactly what was hashed
    event = AuditEvent.objects.create(**fields, hash=digest)
    AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=digest)
    return event


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def audit_verify(events: Iterable[AuditEvent] | None = None) -> ChainVerdict:
    """Recompute every hash in sequence order; report the first event that does not hold."""
    if events is None:
        events = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            return ChainVerdict(
                False, checked, event.seq, f"expected event #{expected_seq}, found #{event.seq} (gap or reorder)"
            )
        if event.prev_hash != prev_hash:
            return ChainVerdict(False, checked, event.seq, "prev_hash does not match the previous event's hash")
        digest = event_digest(
            seq=event.seq,
            created_at=event.created_at,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            model_name=event.model_name,
            data=event.data,
            prev_hash=event.prev_hash,
        )
        if digest != event.hash:
            return ChainVerdict(False, checked, event.seq, "content does not match its hash (edited)")
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_seq != checked:
        return ChainVerdict(
            False, checked, checked + 1, f"chain head says {head.last_seq} events, found {checked} (deleted tail)"
        )
    return ChainVerdict(True, checked)
