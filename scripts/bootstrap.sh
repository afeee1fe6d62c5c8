#!/usr/bin/env bash
# Install what nkbrief needs on a Debian machine, once: Qt's system libraries and fonts
# (apt-get, only those missing), then a virtual environment in .venv with the project.
#   NKBRIEF_TEST_TOOLS=1  also installs what the tests use (Xvfb, LibreOffice, poppler,
#                         PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

runtime_pkgs=(libegl1 libgl1 libfontconfig1 libxkbcommon0 libglib2.0-0 libdbus-1-3
  fonts-dejavu-core fonts-noto-cjk
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1)
# postgresql: the throwaway servers of the team-store tests (scripts/pg_test_server.sh)
test_pkgs=(xvfb xauth poppler-utils libreoffice-calc-nogui postgresql)

pkgs=("${runtime_pkgs[@]}")
[ "${NKBRIEF_TEST_TOOLS:-0}" = 1 ] && pkgs+=("${test_pkgs[@]}")
python3 -m venv --help >/dev/null 2>&1 || pkgs+=(python3-venv)
python3 -c 'import ensurepip' >/dev/null 2>&1 || pkgs+=(python3-venv)

bash scripts/apt_ensure.sh bootstrap "${pkgs[@]}"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
extra=""
[ "${NKBRIEF_TEST_TOOLS:-0}" = 1 ] && extra="[test]"
if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}" >.venv/pip-install.log 2>&1; then
  cat .venv/pip-install.log >&2
  echo "bootstrap: pip could not install nkbrief (log above)" >&2
  exit 1
fi
.venv/bin/python -c "import nkbrief, PySide6, pyqtgraph, pandas, openpyxl" \
  || { echo "bootstrap: the Python environment in .venv is incomplete" >&2; exit 1; }
# The project's own modules compiled to bytecode now, as pip compiles every other package
# it installs: an editable install leaves them as source, and where nothing may write
# bytecode at run time ($PYTHONDONTWRITEBYTECODE, a read-only checkout) every start of the
# window would compile them again (about a fifth of its start-up). bench/bench_ui.py
# measures start-up after the same command (COMPILE_BYTECODE).
.venv/bin/python -m compileall -q nkbrief ui >/dev/null \
  || { echo "bootstrap: could not compile nkbrief to bytecode" >&2; exit 1; }
