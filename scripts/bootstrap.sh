#!/usr/bin/env bash
# Shared set-up of `make run` and `make test`: system packages, virtualenv, Python packages.
#   scripts/bootstrap.sh run|test
# System packages are installed with apt-get when running as root; otherwise the one line
# to run is printed and the script stops.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# WeasyPrint needs Pango; audit PDF charts are drawn by Debian's Chromium (kaleido); the run
# command needs a local Redis when none answers.
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core chromium redis-server; do
  have_pkg "$pkg" || need+=("$pkg")
done
if [ "$mode" = "test" ]; then
  # Browser tests drive Debian's Chromium; PDFs are checked with pdftoppm; PostgreSQL.
  for pkg in poppler-utils postgresql; do
    have_pkg "$pkg" || need+=("$pkg")
  done
fi
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "==> installing system packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "Missing system packages. Run this once, then try again:"
    echo "  sudo apt-get install -y ${need[*]}"
    exit 1
  fi
fi

PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "Python 3.11 or newer is required (found $("$PY" --version 2>&1))."; exit 1; }
if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtualenv .venv"
  "$PY" -m venv .venv
fi
reqs=requirements.txt
[ "$mode" = "test" ] && reqs=requirements-dev.txt
stamp=".venv/.installed-$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)-$mode"
if [ ! -f "$stamp" ]; then
  echo "==> installing Python packages from $reqs"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$reqs"
  touch "$stamp"
fi
# The `govern` CLI (client/, docs/cli.md): its pinned dependencies, then the package itself.
client_stamp=".venv/.installed-client-$(cat client/requirements.txt client/pyproject.toml client/govern/*.py | sha256sum | cut -c1-16)"
if [ ! -f "$client_stamp" ]; then
  echo "==> installing the govern CLI from client/"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r client/requirements.txt ./client
  touch "$client_stamp"
fi
