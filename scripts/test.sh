#!/usr/bin/env bash
# Runs the test suite against real services when they answer. Outside CI it falls back to SQLite
# and eager tasks, loudly; under CI (CI set) there is no fallback: a missing service fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"

export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal}
export CELERY_BROKER_URL=${CELERY_BROKER_URL:-redis://127.0.0.1:6379/14}

fallback() {
  if [ -n "${CI:-}" ]; then
    echo "CI: $1 — no fallback under CI." >&2
    exit 1
  fi
  echo "" >&2
  echo "################################################################################" >&2
  echo "#  WARNING: $1" >&2
  echo "#  Falling back to SQLite and eager tasks: PostgreSQL-only behaviour (triggers," >&2
  echo "#  row locks) and real-worker tests are NOT exercised in this run." >&2
  echo "################################################################################" >&2
  echo "" >&2
  unset DATABASE_URL CELERY_BROKER_URL
}

if ! problem=$("$PY" scripts/services.py check 2>&1); then
  fallback "$problem"
fi

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests…" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } \
      || echo "Could not install chromium; browser tests will be skipped." >&2
  fi
  if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] && [ -n "${CI:-}" ]; then
    echo "CI: chromium is missing and could not be installed." >&2
    exit 1
  fi
fi

echo "Testing on: ${DATABASE_URL:-SQLite (fallback)}, broker: ${CELERY_BROKER_URL:-eager (fallback)}" >&2
# Two test processes by default (this machine's cores; TEST_PROCESSES=0 runs in one), each with
# its own test database and Redis database; tests that start workers or browsers share one.
"$PY" scripts/compile_messages.py
exec "$VENV/bin/pytest" -n "${TEST_PROCESSES:-2}" --dist loadgroup "$@"
