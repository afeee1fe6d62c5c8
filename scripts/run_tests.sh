#!/usr/bin/env bash
# Set up (first time only) and run every test: core tests, Qt tests offscreen, and one real
# window under Xvfb whose screenshot must not be blank.
set -euo pipefail
cd "$(dirname "$0")/.."
NKBRIEF_TEST_TOOLS=1 bash scripts/bootstrap.sh
export QT_QPA_PLATFORM=offscreen
# Tests must never touch the analyst's real store or settings.
tmp=$(mktemp -d)
pgdir=""
cleanup() {
  if [ -n "$pgdir" ]; then bash scripts/pg_test_server.sh stop "$pgdir" >/dev/null 2>&1 || rm -rf "$pgdir"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# One throwaway PostgreSQL server for the whole run (the team store's tests; tests/pgtest.py).
# Without one (no apt-get to install it) those tests skip with the reason; under CI they fail.
if [ -z "${NKBRIEF_TEST_PG:-}" ]; then
  pgdir=$(mktemp -d "${TMPDIR:-/tmp}/nkbrief-pg.XXXXXX")
  if pgurl=$(bash scripts/pg_test_server.sh start "$pgdir"); then
    export NKBRIEF_TEST_PG="$pgurl" NKBRIEF_TEST_PG_DIR="$pgdir"
  else
    rm -rf "$pgdir"
    pgdir=""
    echo "run_tests: no PostgreSQL test server (above); the tests that need one will say why"
  fi
fi
export NKBRIEF_DB="$tmp/test-store.sqlite3" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
.venv/bin/python -m pytest "$@"
if [ $# -eq 0 ] && [ -f ui/app.py ]; then
  echo "real window under Xvfb:"
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" \
    .venv/bin/python main.py --screenshot "$tmp/window.png" --select 2026-01-27-srbm-north-of-pyongyang
  .venv/bin/python scripts/screenshot_check.py "$tmp/window.png"
fi
