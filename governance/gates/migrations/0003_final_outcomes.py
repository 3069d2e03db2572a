"""Gate outcomes are final once finished: the database refuses any UPDATE of a passed,
failed, error or bypassed run, any DELETE, and TRUNCATE. Outcomes are in the audit chain
from now on (`gate.finished`, gates/integrity.py); runs already final get their event here,
marked `backfilled`, so that `verify_audit` can require one for every final run."""

import json

from django.db import migrations
from django.utils import timezone

from governance.audit.dbguard import final_rows_sql, guard_operation, no_truncate_sql
from governance.audit.services import event_digest
from governance.core.canonical import canonical_json_sha256

FINAL = ["passed", "failed", "error", "bypassed"]


def backfill(apps, schema_editor):
    GateRun = apps.get_model("gates", "GateRun")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    runs = GateRun.objects.filter(status__in=FINAL).order_by("pk").select_related("request__version__model")
    if not runs.exists():
        return
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    seq, prev = head.last_seq, head.last_hash
    for run in runs.iterator(chunk_size=1000):
        seq += 1
        fields = {
            "seq": seq,
            "created_at": timezone.now(),
            "actor_id": None,
            "actor_label": "system",
            "action": "gate.finished",
            "object_type": "gates.gaterun",
            "object_id": str(run.pk),
            "model_name": run.request.version.model.name,
            "data": {
                "gate_id": run.gate_id,
                "request_id": run.request_id,
                "round": run.round,
                "status": run.status,
                "outcome_sha256": canonical_json_sha256(json.loads(json.dumps(run.outcome))),
                "backfilled": True,
            },
            "prev_hash": prev,
        }
        prev = event_digest(**fields)
        AuditEvent.objects.create(**fields, hash=prev)
    AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=prev)


class Migration(migrations.Migration):
    atomic = True
    dependencies = [("gates", "0002_gate_rounds"), ("audit", "0004_origin_and_chain_checks")]
    operations = [
        guard_operation(no_truncate_sql, "gates_gaterun", "gate outcomes"),
        guard_operation(final_rows_sql, "gates_gaterun", "status", FINAL, "gate outcomes"),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
