"""The chain's outside anchor: the chain head, written where the database cannot rewrite it.

Someone who can write to the database can edit an event and re-hash every later event and
the chain head: the chain then verifies again. An anchor is the head (sequence number and
hash) at a moment, signed with AUDIT_ANCHOR_KEY (a key that is not in the database), kept
as a new JSON file under the default storage each time (never overwritten) and emailed to
AUDIT_ANCHOR_EMAILS. `verify_audit --anchor FILE` checks that the event at the anchor's
sequence number still has exactly that hash: a rewritten trail no longer has it.
Threat model: docs/audit.md.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.audit.services import audit_head, audit_record

log = logging.getLogger(__name__)

ANCHOR_KIND = "governance-audit-anchor"
ANCHOR_DIR = "audit-anchors"
MAX_ANCHOR_BYTES = 64 * 1024


def anchor_signature(seq: int, hash_: str, written_at: str, key: str | None = None) -> str:
    """HMAC-SHA256 over the canonical JSON of the three facts an anchor states."""
    message = json.dumps({"hash": hash_, "seq": seq, "written_at": written_at}, sort_keys=True, separators=(",", ":"))
    return hmac.new((key or settings.AUDIT_ANCHOR_KEY).encode(), message.encode(), sha256).hexdigest()


def anchor_document(seq: int, hash_: str, written_at: datetime) -> dict:
    stamp = written_at.isoformat()
    return {
        "kind": ANCHOR_KIND,
        "seq": seq,
        "hash": hash_,
        "written_at": stamp,
        "hmac_sha256": anchor_signature(seq, hash_, stamp),
    }


@dataclass(frozen=True)
class Anchor:
    name: str  # in the default storage
    document: dict
    emailed_to: tuple[str, ...]


def anchor_write(*, now: datetime | None = None) -> Anchor:
    """Write the current chain head to a new file (and email it). The anchoring itself is
    then an event of the chain (`audit.anchored`), naming the file."""
    now = now or timezone.now()
    seq, hash_ = audit_head()
    document = anchor_document(seq, hash_, now)
    body = json.dumps(document, indent=2, sort_keys=True) + "\n"
    wanted = f"{ANCHOR_DIR}/{now:%Y/%m}/anchor-{seq:012d}-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.json"
    # Storage.save never overwrites: an existing name gets a new suffix (and S3 is set
    # with AWS_S3_FILE_OVERWRITE=False, docs/operations.md).
    name = default_storage.save(wanted, ContentFile(body.encode("utf-8")))
    recipients = tuple(settings.AUDIT_ANCHOR_EMAILS)
    if recipients:
        message = EmailMessage(
            subject=f"{settings.EMAIL_SUBJECT_PREFIX}Audit chain anchor: event #{seq}",
            body=(
                f"The audit trail's chain head at {document['written_at']}:\n\n"
                f"  event #{seq}\n  hash  {hash_}\n\n"
                "Keep this message: it is outside the database. To check the trail against it,\n"
                "save the attachment and run: manage.py verify_audit --anchor FILE\n\n" + body
            ),
            to=list(recipients),
        )
        message.attach(name.rsplit("/", 1)[-1], body, "application/json")
        message.send(fail_silently=False)
    with transaction.atomic():
        audit_record(
            actor=None,
            action="audit.anchored",
            data={"seq": seq, "hash": hash_, "file": name, "emailed_to": len(recipients)},
        )
    log.info("audit anchor written: event #%s to %s", seq, name)
    return Anchor(name=name, document=document, emailed_to=recipients)


def anchor_parse(raw: bytes) -> dict:
    """The anchor file's document; ValueError naming what is wrong with it."""
    if len(raw) > MAX_ANCHOR_BYTES:
        raise ValueError(f"the anchor file is larger than {MAX_ANCHOR_BYTES} bytes: not an anchor")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the anchor file is not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("kind") != ANCHOR_KIND:
        raise ValueError(f"the file is not an audit anchor (kind {ANCHOR_KIND!r} expected)")
    seq, hash_ = document.get("seq"), document.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValueError("the anchor's seq is not a non-negative integer")
    for field in ("hash", "written_at", "hmac_sha256"):
        if not isinstance(document.get(field), str):
            raise ValueError(f"the anchor has no {field}")
    if len(hash_) != 64:
        raise ValueError("the anchor's hash is not a sha256")
    return document


def anchor_problem(document: dict) -> str | None:
    """None when the trail still holds the anchored head; else what is wrong."""
    seq, hash_ = document["seq"], document["hash"]
    expected = anchor_signature(seq, hash_, document["written_at"])
    if not hmac.compare_digest(expected, document["hmac_sha256"]):
        return (
            "the anchor's signature does not match (edited, or signed with another AUDIT_ANCHOR_KEY): it proves nothing"
        )
    if seq == 0:
        return None  # anchored an empty trail
    stored = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
    if stored is None:
        return f"event #{seq} named by the anchor of {document['written_at']} is missing: the trail was cut"
    if stored != hash_:
        return (
            f"event #{seq} has hash {stored[:16]}… but the anchor of {document['written_at']} says "
            f"{hash_[:16]}…: the trail up to #{seq} was rewritten after the anchor was written"
        )
    return None
