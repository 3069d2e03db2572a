"""Nobody rewrites the trail without being caught: TRUNCATE is refused, final gate outcomes
never change, and an outcome edited past the guard is named by verify_audit."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from governance.audit.models import AuditEvent
from governance.audit.services import audit_record, audit_verify
from governance.gates.integrity import outcome_sha256
from governance.gates.models import GateRun
from tests.gates.test_gate_services import _request, _run_all
from tests.tamper import GATE_RUN_TRIGGERS, guards_off

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")

GUARDED_TABLES = [
    "audit_auditevent",
    "audit_auditchainhead",
    "approvals_decision",
    "evidence_document",
    "evidence_artifact",
    "gates_gaterun",
    "policies_policyversion",
]


def _events(n=3):
    with transaction.atomic():
        for i in range(n):
            audit_record(actor=None, action="test.happened", data={"i": i})


@on_postgres
@pytest.mark.parametrize("table", GUARDED_TABLES)
def test_truncate_is_refused(table):
    with pytest.raises(DatabaseError, match="TRUNCATE refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")


@on_postgres
@pytest.mark.django_db(transaction=True)  # committed events, as an attacker finds them
def test_after_a_refused_truncate_the_events_are_there_and_verify_passes(capsys):
    """(Also shows the test database's own flush still empties the tables: conftest.py.)"""
    _events(3)
    with pytest.raises(DatabaseError, match="audit events are append-only: TRUNCATE refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 3
    call_command("verify_audit")
    assert "OK (3 events)" in capsys.readouterr().out


def test_verify_reports_a_truncated_trail_that_got_past_the_guard():
    """A superuser can still empty the table with triggers off; the chain head says how many
    events there were (and an anchor, test_anchor.py, says which)."""
    _events(3)
    with guards_off("audit_auditevent_append_only_d") as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    verdict = audit_verify()
    assert not verdict.ok and "chain head says 3 events, found 0" in verdict.reason


def test_each_final_outcome_is_in_the_chain():
    _, request = _request(change_type="emergency", ticket="INC-7")
    _run_all(request)
    runs = {run.pk: run for run in GateRun.objects.filter(request=request)}
    events = AuditEvent.objects.filter(action="gate.finished", object_id__in=[str(pk) for pk in runs])
    assert events.count() == len(runs) == 4
    for event in events:
        run = runs[int(event.object_id)]
        assert event.object_type == "gates.gaterun" and event.model_name == "svc-model"
        assert event.data["gate_id"] == run.gate_id and event.data["status"] == run.status
        assert event.data["outcome_sha256"] == outcome_sha256(run.outcome)
    assert {e.data["status"] for e in events} >= {"bypassed"}  # bypassed at birth, recorded at birth
    assert audit_verify().ok


def _request_with_a_failed_gate():
    from governance.approvals.services import promotion_request
    from governance.policies.services import policy_publish
    from tests.factories import grant, make_model, make_team, make_user, make_version

    team = make_team("svc")
    owner = make_user("owner")
    grant(owner, "model_owner", team=team)
    version = make_version(make_model("svc-model", team=team), owner, stage="staging")
    policy_publish(
        text="""
name: svc
applies_to: {models: [svc-model]}
transitions:
  staging->production:
    gates: [{id: docs, type: documentation, require: [model_card]}]
    approvals: [{role: risk_officer}]
"""
    )
    request = promotion_request(user=owner, version=version, to_stage="production", justification="x")
    _run_all(request)  # no model card: the documentation gate fails
    run = GateRun.objects.get(request=request, gate_id="docs")
    assert run.status == "failed"
    return run


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE gates_gaterun SET status = 'passed' WHERE id = %s",
        "UPDATE gates_gaterun SET outcome = '{}' WHERE id = %s",
        "DELETE FROM gates_gaterun WHERE id = %s",
    ],
)
def test_the_database_refuses_any_change_of_a_final_gate_run(statement):
    run = _request_with_a_failed_gate()
    with pytest.raises(DatabaseError, match="gate outcomes are"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [run.pk])
    run.refresh_from_db()
    assert run.status == "failed"


def test_a_run_still_pending_moves_freely():
    _, request = _request()
    run = GateRun.objects.filter(request=request).first()
    assert GateRun.objects.filter(pk=run.pk).update(status="running") == 1
    assert GateRun.objects.filter(pk=run.pk).update(status="pending") == 1


def test_an_outcome_edited_with_the_trigger_dropped_is_named_by_verify_audit():
    run = _request_with_a_failed_gate()
    assert audit_verify().ok
    with guards_off(*GATE_RUN_TRIGGERS) as cursor:
        cursor.execute("UPDATE gates_gaterun SET status = 'passed' WHERE id = %s", [run.pk])
    verdict = audit_verify()
    assert not verdict.ok
    assert f"gate run #{run.pk} ('docs' of request #{run.request_id}) is passed but the chain recorded failed" in (
        verdict.reason
    )
    with pytest.raises(CommandError, match=rf"gate run #{run.pk} \('docs'"):
        call_command("verify_audit")


def test_a_run_made_final_past_the_guard_without_its_event_is_named():
    _, request = _request()
    run = GateRun.objects.filter(request=request).first()  # pending, no outcome yet
    with guards_off(*GATE_RUN_TRIGGERS) as cursor:
        cursor.execute("UPDATE gates_gaterun SET status = 'passed', outcome = '{}' WHERE id = %s", [run.pk])
    verdict = audit_verify()
    assert not verdict.ok and f"gate run #{run.pk}" in verdict.reason and "recorded no outcome" in verdict.reason
