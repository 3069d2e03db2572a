"""A throw-away PostgreSQL database for a bench: dropped if left over, created, migrated, and
Django set up on it in this process; `scratch_drop` removes it at the end (unless --keep).

Imported by the benches that run against PostgreSQL (`bench_model_report.py`,
`verify_audit_bench.py`), which are run as scripts from the checkout's root, so this
folder is on the import path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _psql(*args: str) -> None:
    subprocess.run([*args, "-h", "127.0.0.1", "-U", "postgres"], check=True)


def scratch_setup(db: str, **env: str) -> None:
    """Point the settings at a fresh, migrated database `db` and call `django.setup()`.
    `env` adds settings of this bench (VAR_DIR, MEDIA_ROOT, ...)."""
    os.environ.update(
        {
            "ENV_FILE": "",
            "DEBUG": "true",
            "SECRET_KEY": "bench-only",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
            **env,
        }
    )
    _psql("dropdb", "--if-exists", "--force", db)
    _psql("createdb", db)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()


def scratch_drop(db: str) -> None:
    """Close this process's connections and drop the database."""
    from django.db import connections

    connections.close_all()
    _psql("dropdb", "--if-exists", "--force", db)
