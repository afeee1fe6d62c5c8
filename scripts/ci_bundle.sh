#!/usr/bin/env bash
# CI step (called by .ci/run after the fast tests): build the portable bundle, then run the
# offline smoke test against it. Prints one PASS/FAIL line with timings; exits non-zero on
# a failed build or a failed check. About 2-3 minutes on 2 cores with a warm pip cache.
#
#   NKBRIEF_SKIP_BUNDLE=1  skip this step (prints why) - for machines without unshare/root
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${NKBRIEF_SKIP_BUNDLE:-0}" = 1 ]; then
    echo "ci_bundle: SKIPPED (NKBRIEF_SKIP_BUNDLE=1)"
    exit 0
fi

PY=python3
command -v python3.11 >/dev/null 2>&1 && PY=python3.11
start=$(date +%s)
log=build/ci_bundle_build.log
mkdir -p build
echo "ci_bundle: building the bundle (log: $log)"
if ! PYTHON="$PY" bash scripts/build_bundle.sh >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "ci_bundle: FAIL - the bundle did not build ($(( $(date +%s) - start )) s)"
    exit 1
fi
grep '^build_bundle: \(venv\|size\)\|^ *[0-9]* MB ' "$log" || true
built=$(date +%s)

# MiB as du counts them; the goal in docs/distribution.md is 200 MB.
size_mib=$(du -s --block-size=1M dist/nkbrief | cut -f1)
if [ "$size_mib" -gt 200 ]; then
    echo "ci_bundle: WARNING - the bundle is ${size_mib} MiB, over the 200 MB goal"
fi

set +e
"$PY" scripts/bundle_smoke.py dist/nkbrief --json-report build/bundle-smoke.json
smoke=$?
set -e
end=$(date +%s)
verdict=PASS
[ "$smoke" -eq 0 ] || verdict=FAIL
echo "ci_bundle: $verdict - bundle ${size_mib} MiB; build $((built - start)) s, smoke $((end - built)) s, total $((end - start)) s"
exit "$smoke"
