"""An attacker with the database: edits rows past the guards, as a superuser can.

PostgreSQL: `session_replication_role = replica` turns ordinary triggers off for the session
(superuser only). SQLite has no such switch: the named triggers are dropped (the test's
transaction is rolled back at the end, and with it the DROP).
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection


@contextmanager
def guards_off(*sqlite_triggers: str):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
            try:
                yield cursor
            finally:
                cursor.execute("SET session_replication_role = origin")
        else:
            for name in sqlite_triggers:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            yield cursor


GATE_RUN_TRIGGERS = ("gates_gaterun_final_u", "gates_gaterun_final_d")
AUDIT_TRIGGERS = ("audit_auditevent_append_only_u", "audit_auditevent_append_only_d")
