"""The outside anchor: an attacker who rewrites the trail and re-hashes it passes the plain
chain check, but not the check against an anchor written before the rewrite."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings

from governance.audit.anchor import anchor_write
from governance.audit.models import AuditEvent
from governance.audit.services import audit_record, audit_verify, event_digest
from tests.tamper import guards_off

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def _events(n):
    with transaction.atomic():
        for i in range(n):
            audit_record(actor=None, action="promotion.approved", model_name="m", data={"i": i, "ticket": f"T-{i}"})


def _anchor_file(tmp_path, anchor) -> str:
    path = tmp_path / "anchor.json"
    with default_storage.open(anchor.name) as stored:
        path.write_bytes(stored.read())
    return str(path)


def _rewrite_history(seq: int, data: dict) -> None:
    """The attacker: edit event #seq, re-hash it and every later event, move the head."""
    with guards_off("audit_auditevent_append_only_u") as cursor:
        prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else "0" * 64
        for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
            if event.seq == seq:
                event.data = data
            fields = {
                "seq": event.seq,
                "created_at": event.created_at,
                "actor_id": event.actor_id,
                "actor_label": event.actor_label,
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "model_name": event.model_name,
                "data": event.data,
                "prev_hash": prev,
                "ip": event.ip,
                "user_agent": event.user_agent,
            }
            digest = event_digest(**fields)
            cursor.execute(
                "UPDATE audit_auditevent SET data = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                [json.dumps(event.data), prev, digest, event.seq],
            )
            prev = digest
        cursor.execute("UPDATE audit_auditchainhead SET last_hash = %s", [prev])


@override_settings(AUDIT_ANCHOR_EMAILS=["vault@bank.example", "auditor@bank.example"])
def test_an_anchor_is_a_new_signed_file_each_time_and_an_email():
    _events(2)
    first = anchor_write()
    second = anchor_write()
    assert first.name != second.name and first.name.startswith("audit-anchors/")
    doc = json.loads(default_storage.open(first.name).read())
    assert doc["seq"] == 2 and doc["hash"] == AuditEvent.objects.get(seq=2).hash
    assert set(doc) == {"kind", "seq", "hash", "written_at", "hmac_sha256"}
    assert json.loads(default_storage.open(second.name).read())["seq"] == 3  # the first anchoring is an event
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    assert message.to == ["vault@bank.example", "auditor@bank.example"]
    assert "event #2" in message.subject and doc["hash"] in message.body
    assert json.loads(message.attachments[0][1]) == doc
    anchored = AuditEvent.objects.filter(action="audit.anchored").first()
    assert anchored.data["file"] == first.name and anchored.data["seq"] == 2


def test_the_command_writes_one_now(capsys):
    _events(1)
    call_command("audit_anchor")
    out = capsys.readouterr().out
    assert "anchored event #1" in out and "file: audit-anchors/" in out
    assert not mail.outbox  # no address configured (the default): no email


def test_a_rehashed_trail_passes_the_plain_check_but_not_the_anchor(tmp_path, capsys):
    _events(5)
    anchor = anchor_write()  # event #6 records it
    _events(2)
    path = _anchor_file(tmp_path, anchor)
    call_command("verify_audit", anchor=path)
    assert "OK (8 events; holds the anchor of" in capsys.readouterr().out

    _rewrite_history(2, {"i": 1, "ticket": "T-FORGED"})
    assert AuditEvent.objects.get(seq=2).data["ticket"] == "T-FORGED"
    assert audit_verify().ok  # the chain alone cannot tell
    call_command("verify_audit")
    with pytest.raises(CommandError, match=r"event #5 has hash .* the trail up to #5 was rewritten") as caught:
        call_command("verify_audit", anchor=path)
    assert "anchor.json" in str(caught.value)


def test_an_anchor_beyond_a_cut_trail_says_so(tmp_path):
    _events(3)
    path = _anchor_file(tmp_path, anchor_write())
    with guards_off("audit_auditevent_append_only_d") as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq >= 3")
        cursor.execute(
            "UPDATE audit_auditchainhead SET last_seq = 2, last_hash = %s", [AuditEvent.objects.get(seq=2).hash]
        )
    assert audit_verify().ok
    with pytest.raises(CommandError, match="event #3 named by the anchor .* is missing: the trail was cut"):
        call_command("verify_audit", anchor=path)


def test_a_forged_anchor_proves_nothing(tmp_path):
    _events(2)
    doc = anchor_write().document
    forged = dict(doc, hash=AuditEvent.objects.get(seq=1).hash, seq=1)
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    with pytest.raises(CommandError, match="signature does not match"):
        call_command("verify_audit", anchor=str(path))
    with override_settings(AUDIT_ANCHOR_KEY="another-key"):
        good = tmp_path / "good.json"
        good.write_text(json.dumps(doc))
        with pytest.raises(CommandError, match="signature does not match"):
            call_command("verify_audit", anchor=str(good))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not json", "not JSON"),
        (b'{"kind": "something-else"}', "not an audit anchor"),
        (b'{"kind": "governance-audit-anchor", "seq": "7"}', "seq is not a non-negative integer"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_a_file_that_is_not_an_anchor_is_named(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("verify_audit", anchor=str(path))
    with pytest.raises(CommandError, match="cannot read it"):
        call_command("verify_audit", anchor=str(tmp_path / "missing.json"))


def test_the_anchor_key_defaults_to_one_derived_from_the_secret_key():
    assert settings.AUDIT_ANCHOR_KEY and settings.AUDIT_ANCHOR_KEY != settings.SECRET_KEY


def test_beat_writes_an_anchor_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-anchor-daily"]
    assert entry["task"] == "governance.audit.tasks.audit_anchor_task"
    assert entry["schedule"].hour == {settings.AUDIT_ANCHOR_HOUR}
