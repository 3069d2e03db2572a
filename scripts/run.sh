#!/usr/bin/env bash
# `make run`: the product on this machine, with demo data.
# SQLite under var/ and a local Redis by default; web on http://127.0.0.1:8000, one Celery
# worker and Celery beat. Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh run

PY=.venv/bin/python
PORT="${PORT:-8000}"
# Local settings live in .env (settings.py reads it), so every `manage.py` command works from
# any shell in this checkout, not only under `make run`. Only missing keys are added (an
# existing .env, e.g. one made for docker compose, keeps its values); edit it freely.
[ -f .env ] || { touch .env; chmod 600 .env; }
add_setting() {
  grep -q "^$1=" .env || { echo "$1=$2" >> .env; added+=("$1"); }
}
added=()
add_setting DEBUG true
add_setting SECRET_KEY "$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')"
add_setting DATABASE_URL "sqlite:///$(pwd)/var/governance.sqlite3"
# Redis, email (files under var/mail) and SITE_URL keep their local defaults (docs/operations.md).
[ ${#added[@]} -eq 0 ] || echo "==> local settings in .env: added ${added[*]}"
REDIS_URL="${REDIS_URL:-$(sed -n 's/^REDIS_URL=//p' .env | tail -n 1)}"
[ "$PORT" = 8000 ] || export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
case "$REDIS_URL" in
  redis://127.0.0.1*|redis://localhost*|"") scripts/ensure_services.sh redis ;;
esac

$PY manage.py migrate --noinput
$PY manage.py seed_demo

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "==> stopping web, worker and beat"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

mkdir -p var/log
.venv/bin/gunicorn governance.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --timeout 120 \
  --access-logfile var/log/web-access.log --error-logfile var/log/web.log &
pids+=($!)
.venv/bin/celery -A governance worker --concurrency 2 -l info --logfile var/log/worker.log &
pids+=($!)
.venv/bin/celery -A governance beat -l info --logfile var/log/beat.log --pidfile var/beat.pid &
pids+=($!)

for _ in $(seq 1 60); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 1
done
cat <<MSG

  Model governance dashboard: http://127.0.0.1:$PORT/
  Health (database, Redis, worker): http://127.0.0.1:$PORT/healthz
  Demo logins (password: demo-password-2026): see the list printed by seed_demo above,
  e.g. owner (model owner), risk (risk officer), admin (staff).
  Logs: var/log/  Emails: $($PY manage.py shell --no-imports -c 'from governance.notifications.emails import email_destination as d; print(d())' 2>/dev/null || echo var/mail/)  Settings: .env (any shell here can run manage.py)
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
