"""The one way to write an audit event: `audit_record`, inside the caller's transaction."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from governance.audit.context import current_origin
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
    ip: str | None = None,
    user_agent: str = "",
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
    # Added later: hashed only when set, so events written before they existed still verify.
    if ip:
        payload["ip"] = ip
    if user_agent:
        payload["user_agent"] = user_agent
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
    origin = current_origin()
    if origin.token is not None:  # written while serving a request made with an API token
        clean["auth"] = dict(origin.token)
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
        "ip": origin.ip,
        "user_agent": origin.user_agent,
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
    head_seq: int | None = None  # the chain head the check verified up to
    head_hash: str = ""


# Checks of facts outside this package against the chain (e.g. gate outcomes): registered by
# the owning app (AppConfig.ready), run by audit_verify after the chain holds. Each returns
# None or the verdict naming the problem; it is given the number of events checked.
FactCheck = Callable[[int], "ChainVerdict | None"]
_fact_checks: dict[str, FactCheck] = {}


def audit_fact_check_register(name: str, check: FactCheck) -> None:
    _fact_checks[name] = check


_VERIFY_FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "model_name",
    "data",
    "prev_hash",
    "hash",
    "ip",
    "user_agent",
)
VERIFY_CHUNK = 5000


def _stored_events(up_to: int) -> Iterator[tuple]:
    """Events #1..up_to as tuples of _VERIFY_FIELDS, in sequence order, a chunk at a time
    (keyset pagination on seq: bounded memory whatever the size of the trail, and no long
    transaction holding back vacuum)."""
    after = 0
    while after < up_to:
        rows = list(
            AuditEvent.objects.filter(seq__gt=after, seq__lte=up_to)
            .order_by("seq")
            .values_list(*_VERIFY_FIELDS)[:VERIFY_CHUNK]
        )
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def audit_verify(*, facts: bool = True) -> ChainVerdict:
    """Recompute every hash in sequence order, up to the chain head as it stands when the
    check starts (events appended meanwhile are left for the next check); report the first
    event that does not hold. Then, with `facts`, the registered fact checks: e.g. each
    final gate run against the outcome hash the chain recorded for it."""
    head_seq, head_hash = audit_head()
    return replace(_verify(head_seq, head_hash, facts), head_seq=head_seq, head_hash=head_hash)


def _verify(head_seq: int, head_hash: str, facts: bool) -> ChainVerdict:
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for row in _stored_events(head_seq):
        seq, created_at, actor_id, actor_label, action, otype, oid, model_name, data, prev, stored, ip, agent = row
        if seq != expected_seq:
            return ChainVerdict(False, checked, seq, f"expected event #{expected_seq}, found #{seq} (gap or reorder)")
        if prev != prev_hash:
            return ChainVerdict(False, checked, seq, "prev_hash does not match the previous event's hash")
        digest = event_digest(
            seq=seq,
            created_at=created_at,
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            object_type=otype,
            object_id=oid,
            model_name=model_name,
            data=data,
            prev_hash=prev,
            ip=ip,
            user_agent=agent,
        )
        if digest != stored:
            return ChainVerdict(False, checked, seq, "content does not match its hash (edited)")
        prev_hash = stored
        expected_seq += 1
        checked += 1
    if head_seq != checked:
        return ChainVerdict(
            False, checked, checked + 1, f"chain head says {head_seq} events, found {checked} (deleted tail)"
        )
    if head_hash != prev_hash:
        return ChainVerdict(False, checked, checked or None, "the chain head's hash is not the last event's hash")
    if facts:
        for check in _fact_checks.values():
            verdict = check(checked)
            if verdict is not None:
                return verdict
    return ChainVerdict(True, checked)


def audit_head() -> tuple[int, str]:
    """(sequence number, hash) of the last event; (0, genesis) for an empty trail."""
    head = AuditChainHead.objects.filter(pk=1).first()
    return (head.last_seq, head.last_hash) if head is not None else (0, GENESIS_HASH)
