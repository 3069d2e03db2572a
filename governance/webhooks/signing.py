"""How a delivery is signed (docs/webhooks.md has the receiver's side, in Python).

`X-Governance-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`: the
timestamp is inside the signed text, so a captured request cannot be replayed later than the
receiver's tolerance window; `X-Governance-Event-Id` stays the same across retries and
redeliveries, so a receiver can drop an event it already handled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

SIGNATURE_HEADER = "X-Governance-Signature"
EVENT_ID_HEADER = "X-Governance-Event-Id"
EVENT_TYPE_HEADER = "X-Governance-Event"
DELIVERY_HEADER = "X-Governance-Delivery"
SECRET_PREFIX = "whsec_"
SHOWN_PREFIX = 10  # characters of a secret shown after creation ("whsec_AbCd")


def secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def body_bytes(payload: dict) -> bytes:
    """The exact bytes sent (and signed): compact, sorted keys, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"
