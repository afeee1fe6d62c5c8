#!/usr/bin/env bash
# Set up (first time only) and run every test: core tests, Qt tests offscreen, and one real
# window under Xvfb whose screenshot must not be blank.
set -euo pipefail
cd "$(dirname "$0")/.."
NKBRIEF_TEST_TOOLS=1 bash scripts/bootstrap.sh
export QT_QPA_PLATFORM=offscreen
# Tests must never touch the analyst's real store or settings.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export NKBRIEF_DB="$tmp/test-store.sqlite3" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
.venv/bin/python -m pytest "$@"
if [ $# -eq 0 ] && [ -f ui/app.py ]; then
  echo "real window under Xvfb:"
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" \
    .venv/bin/python main.py --screenshot "$tmp/window.png" --select 2026-01-27-srbm-north-of-pyongyang
  .venv/bin/python scripts/screenshot_check.py "$tmp/window.png"
fi
