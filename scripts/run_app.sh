#!/usr/bin/env bash
# Set up (first time only) and open nkbrief on its bundled data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python main.py "$@"
