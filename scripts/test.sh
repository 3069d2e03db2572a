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
.venv/bin/python -m pytest "$@"

echo "==> smoke pass on SQLite"
smoke_db="$(mktemp -d)/smoke.sqlite3"
DATABASE_URL="sqlite:///$smoke_db" .venv/bin/python -m pytest -m smoke -q -p no:randomly
