#!/usr/bin/env bash
# Build the portable folder dist/nkbrief/ with PyInstaller (see docs/distribution.md).
#
# The build runs in its own lean virtual environment that holds exactly the runtime
# dependencies from pyproject.toml plus PyInstaller: whatever else sits in a developer's
# environment (pytest, hypothesis, IPython...) would otherwise be picked up and bloat the
# bundle. The environment is kept in build/venv (not committed) and reused while
# pyproject.toml and the PyInstaller pin are unchanged.
#
# Environment:
#   PYTHON               interpreter for the build venv (default: python3.11, else python3)
#   NKBRIEF_BUILD_VENV   where the build venv lives (default: build/venv)
#   NKBRIEF_DIST         output folder (default: dist; the bundle is $NKBRIEF_DIST/nkbrief)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

# The PyInstaller release this build was tested with (6.22.3); newer 6.x should work.
PYINSTALLER_REQ="pyinstaller>=6.16,<7"

PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then
    if command -v python3.11 >/dev/null 2>&1; then PY=python3.11; else PY=python3; fi
fi
"$PY" - <<'EOF' || { echo "build_bundle: needs Python 3.11-3.13 (set PYTHON=...)" >&2; exit 2; }
import sys
sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)
EOF

VENV="${NKBRIEF_BUILD_VENV:-$REPO/build/venv}"
DIST="${NKBRIEF_DIST:-$REPO/dist}"
WORK="$REPO/build/pyinstaller"
mkdir -p "$REPO/build"

# Requirements = pyproject's [project.dependencies] + PyInstaller, written to a file whose
# hash decides whether the existing venv can be reused.
REQ="$REPO/build/bundle-requirements.txt"
"$PY" - "$REQ" "$PYINSTALLER_REQ" <<'EOF'
import sys, tomllib
with open("pyproject.toml", "rb") as f:
    deps = tomllib.load(f)["project"]["dependencies"]
with open(sys.argv[1] + ".new", "w") as out:
    out.write("\n".join([*deps, sys.argv[2]]) + "\n")
EOF
mv "$REQ.new" "$REQ"
STAMP="$VENV/.nkbrief-requirements"
t0=$(date +%s)
if [[ -x "$VENV/bin/python" ]] && cmp -s "$REQ" "$STAMP"; then
    echo "build_bundle: reusing build venv $VENV"
else
    echo "build_bundle: creating build venv $VENV"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r "$REQ"
    cp "$REQ" "$STAMP"
fi
t1=$(date +%s)
echo "build_bundle: packages in the build venv:"
"$VENV/bin/python" -m pip list --format=freeze | sed 's/^/    /'

rm -rf "$DIST/nkbrief"
"$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" build.spec
t2=$(date +%s)

BUNDLE="$DIST/nkbrief"
[[ -x "$BUNDLE/nkbrief" || -f "$BUNDLE/nkbrief.exe" ]] || { echo "build_bundle: no executable in $BUNDLE" >&2; exit 1; }
echo "build_bundle: venv $((t1 - t0)) s, pyinstaller $((t2 - t1)) s"
echo "build_bundle: bundle $BUNDLE"
du -sh "$BUNDLE" | awk '{print "build_bundle: size " $1}'
echo "build_bundle: largest parts:"
(cd "$BUNDLE/_internal" && du -s --block-size=1M -- * | sort -rn | head -12 | awk '{printf "    %5d MB  %s\n", $1, $2}')
