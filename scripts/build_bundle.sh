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
#   NKBRIEF_PILLOW_WHEEL=1  use Pillow's PyPI wheel instead of compiling it (see below)
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

# Pillow is compiled from its source release with only zlib and FreeType (PNG writing and
# text in the pack's timeline picture: all nkbrief asks of it). The PyPI wheel also carries
# JPEG, TIFF, JPEG 2000, WebP, AVIF, LCMS, XCB and HarfBuzz/raqm libraries that _imaging
# links to (8 MB of the bundle), and zlib and FreeType link to the copies the bundle holds
# for Qt anyway. Needs gcc and the zlib and FreeType headers (Debian: gcc zlib1g-dev
# libfreetype-dev); NKBRIEF_PILLOW_WHEEL=1 takes the wheel instead (a bundle 8 MB larger).
PILLOW_SOURCE_OPTS=(-C zlib=enable -C freetype=enable -C jpeg=disable -C tiff=disable
    -C jpeg2000=disable -C webp=disable -C avif=disable -C lcms=disable -C xcb=disable
    -C imagequant=disable -C raqm=disable)
PILLOW_FROM_SOURCE=0
if [[ "$(uname -s)" == Linux && "${NKBRIEF_PILLOW_WHEEL:-0}" != 1 ]]; then PILLOW_FROM_SOURCE=1; fi

# Requirements = pyproject's [project.dependencies] + PyInstaller (+ how Pillow is built),
# written to a file whose content decides whether the existing venv can be reused.
REQ="$REPO/build/bundle-requirements.txt"
PILLOW_NOTE="# pillow: wheel"
[[ $PILLOW_FROM_SOURCE == 1 ]] && PILLOW_NOTE="# pillow: from source ${PILLOW_SOURCE_OPTS[*]}"
"$PY" - "$REQ" "$PYINSTALLER_REQ" "$PILLOW_NOTE" <<'EOF'
import sys, tomllib
with open("pyproject.toml", "rb") as f:
    deps = tomllib.load(f)["project"]["dependencies"]
with open(sys.argv[1] + ".new", "w") as out:
    out.write("\n".join([*deps, sys.argv[2], sys.argv[3]]) + "\n")
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
    if [[ $PILLOW_FROM_SOURCE == 1 ]]; then
        pillow_req=$(grep -i '^pillow' "$REQ")
        echo "build_bundle: compiling $pillow_req from source (zlib and FreeType only)"
        # --no-cache-dir: pip would reuse a wheel it compiled earlier with other options.
        if ! "$VENV/bin/python" -m pip install --quiet --no-cache-dir --force-reinstall --no-deps \
                --no-binary pillow "${PILLOW_SOURCE_OPTS[@]}" "$pillow_req"; then
            echo "build_bundle: could not compile Pillow; it needs gcc and the zlib and FreeType" \
                 "headers (Debian: apt-get install gcc zlib1g-dev libfreetype-dev)," \
                 "or set NKBRIEF_PILLOW_WHEEL=1 to use the PyPI wheel (bundle 8 MB larger)" >&2
            rm -rf "$VENV"
            exit 1
        fi
    fi
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
if [[ ! -x "$BUNDLE/nkbrief" && ! -f "$BUNDLE/nkbrief.exe" ]]; then
    echo "build_bundle: no executable in $BUNDLE" >&2
    exit 1
fi
echo "build_bundle: venv $((t1 - t0)) s, pyinstaller $((t2 - t1)) s"
echo "build_bundle: bundle $BUNDLE"
# Sizes of file contents (du -sb): MB = 10^6 bytes, the unit of the 200 MB limit; MiB = 2^20.
du -sb "$BUNDLE" \
    | awk '{printf "build_bundle: size %.1f MB (%.1f MiB, %d bytes)\n", $1 / 1e6, $1 / 1048576, $1}'
echo "build_bundle: largest parts (MB):"
(cd "$BUNDLE/_internal" && du -sb -- * | sort -rn | head -12 \
    | awk '{printf "    %6.1f MB  %s\n", $1 / 1e6, $2}')
