"""The audit trail is append-only and hash-chained; verify_audit finds the first bad event."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from governance.audit.models import AuditEvent
from governance.audit.services import audit_record, audit_verify

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def _events(n=3):
    with transaction.atomic():
        for i in range(n):
            audit_record(actor=None, action="test.happened", data={"i": i, "api_token": "secret-value"})


def test_it_chains_events_and_verify_says_ok(capsys):
    _events(3)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    call_command("verify_audit")
    assert "OK (3 events)" in capsys.readouterr().out


def test_it_masks_secret_looking_keys():
    _events(1)
    assert AuditEvent.objects.get().data["api_token"] == "***"


@pytest.mark.parametrize("statement", ["UPDATE audit_auditevent SET action = 'x.y'", "DELETE FROM audit_auditevent"])
def test_the_database_refuses_update_and_delete(statement):
    _events(2)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.count() == 2


def _tamper(sql: str, params: list):
    """Simulate an attacker with table-owner rights: drop the guard, edit, restore it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # superuser: triggers off
            cursor.execute(sql, params)
            cursor.execute("SET session_replication_role = origin")
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_append_only_u")
            cursor.execute("DROP TRIGGER audit_auditevent_append_only_d")
            cursor.execute(sql, params)


def test_verify_names_the_first_edited_event():
    _events(4)
    _tamper("UPDATE audit_auditevent SET data = %s WHERE seq = 2", ['{"i": 99}'])
    verdict = audit_verify()
    assert not verdict.ok and verdict.first_bad_seq == 2 and "edited" in verdict.reason
    with pytest.raises(CommandError, match="event #2"):
        call_command("verify_audit")


def test_verify_detects_a_deleted_event():
    _events(4)
    _tamper("DELETE FROM audit_auditevent WHERE seq = 3", [])
    verdict = audit_verify()
    assert not verdict.ok and verdict.first_bad_seq == 4


def test_verify_detects_a_deleted_tail():
    _events(4)
    _tamper("DELETE FROM audit_auditevent WHERE seq = 4", [])
    verdict = audit_verify()
    assert not verdict.ok and "deleted tail" in verdict.reason
