#!/usr/bin/env bash
# `make test`: lint, the whole suite on PostgreSQL + Redis + a real Celery worker +
# headless Chromium, then the core flow again on SQLite (the embedded default).
# With CI=true a missing service is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
scripts/ensure_services.sh postgres
scripts/ensure_services.sh redis
command -v chromium >/dev/null || { echo "chromium is missing (apt-get install chromium)"; exit 1; }

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
echo "==> pytest on PostgreSQL"
# In parallel (pytest-xdist, one process per core unless PYTEST_WORKERS says otherwise):
# each process has its own test database, Celery queue and worker (tests/env.py).
# worksteal: an idle process takes tests from a busy one, so the few long worker and
# browser tests do not leave a core idle at the end.
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" --dist worksteal "$@"

echo "==> smoke pass on SQLite"
smoke_db="$(mktemp -d)/smoke.sqlite3"
DATABASE_URL="sqlite:///$smoke_db" .venv/bin/python -m pytest -m smoke -q -p no:randomly
