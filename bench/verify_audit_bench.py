"""`verify_audit` over 1,000,000 chained audit events on PostgreSQL: wall time and peak memory.

Builds a throw-away database (migrated), writes N valid chained events straight into
audit_auditevent with COPY (hashes precomputed with the product's own `event_digest`; about
one event in ten carries an IP and user agent, as web and API events do), sets the chain
head, then runs `manage.py verify_audit` as a child process and measures its wall time and
peak RSS (getrusage of the child). Targets: <= 60 s and <= 200 MB. Not part of the test suite.

    .venv/bin/python bench/verify_audit_bench.py [--events 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from scratch_db import ROOT, scratch_drop, scratch_setup

DB = "governance_bench_verify_audit"
ACTIONS = ["promotion.requested", "gate.finished", "promotion.approved", "evidence.uploaded", "auth.login"]


def build(n: int) -> float:
    """Insert n chained events; returns the seconds it took."""
    import json

    from django.db import connection

    from governance.audit.services import GENESIS_HASH, event_digest

    started = time.monotonic()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    columns = (
        "seq, created_at, actor_id, actor_label, action, object_type, object_id, model_name, data, "
        "prev_hash, hash, ip, user_agent"
    )
    prev = GENESIS_HASH
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            for seq in range(1, n + 1):
                created_at = base + timedelta(seconds=seq, microseconds=seq % 1_000_000)
                action = ACTIONS[seq % len(ACTIONS)]
                model_name = f"model-{seq % 500:03d}"
                data = {
                    "request_id": seq // 7,
                    "reason": "reviewed the evidence and the gate outcomes",
                    "ticket_id": f"RISK-{seq % 10_000}",
                    "risk_class": "medium",
                }
                ip, agent = (
                    ("203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0") if seq % 10 == 0 else (None, "")
                )
                fields = {
                    "seq": seq,
                    "created_at": created_at,
                    "actor_id": None,
                    "actor_label": "system",
                    "action": action,
                    "object_type": "approvals.promotionrequest",
                    "object_id": str(seq // 7),
                    "model_name": model_name,
                    "data": data,
                    "prev_hash": prev,
                    "ip": ip,
                    "user_agent": agent,
                }
                digest = event_digest(**fields)
                copy.write_row(
                    (
                        seq,
                        created_at,
                        None,
                        "system",
                        action,
                        "approvals.promotionrequest",
                        str(seq // 7),
                        model_name,
                        json.dumps(data),
                        prev,
                        digest,
                        ip,
                        agent,
                    )
                )
                prev = digest
        cursor.execute(
            "INSERT INTO audit_auditchainhead (id, last_seq, last_hash) VALUES (1, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET last_seq = EXCLUDED.last_seq, last_hash = EXCLUDED.last_hash",
            [n, prev],
        )
        cursor.execute("ANALYZE audit_auditevent")
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    scratch_setup(DB, VAR_DIR="/tmp/bench-verify-audit")
    from django.db import connection

    built = build(args.events)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('audit_auditevent'))")
        size = cursor.fetchone()[0]
    connection.close()
    print(f"built {args.events:,} chained events in {built:.1f} s (table {size})")

    # The child's own rusage (os.wait4), not every child's: migrate ran as a child too.
    with tempfile.TemporaryFile("w+") as out:
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "manage.py", "verify_audit"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        print(out.read().strip())
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    print(f"verify_audit: {wall:.1f} s wall, peak RSS {peak_mb:.0f} MB (targets <= 60 s, <= 200 MB)")
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    if not args.keep:
        scratch_drop(DB)
    ok = child.returncode == 0 and wall <= 60 and peak_mb <= 200
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
