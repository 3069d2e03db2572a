#!/usr/bin/env bash
# Make sure Redis (and, for tests, PostgreSQL) answer on localhost; start them if installed.
#   scripts/ensure_services.sh redis|postgres
set -euo pipefail
case "$1" in
  redis)
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
      echo "==> starting a local redis-server on 127.0.0.1:6379"
      mkdir -p var
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir "$(pwd)/var" --logfile "$(pwd)/var/redis.log"
      for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
    ;;
  postgres)
    if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
      if [ "$(id -u)" = "0" ] && command -v pg_ctlcluster >/dev/null; then
        echo "==> starting PostgreSQL"
        ver=$(ls /etc/postgresql | sort -V | tail -n 1)
        pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
        for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.2; done
      fi
    fi
    if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
      echo "PostgreSQL is not answering on 127.0.0.1:5432 (the tests need it)."; exit 1
    fi
    ;;
esac
