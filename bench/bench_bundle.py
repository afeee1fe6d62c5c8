"""Bundle start-up: the portable build's time to a rendered window vs the source run's.

Both runs render the main window offscreen with ``--screenshot`` on the same, already
seeded store, so the figure is start-up (imports, Qt, first paint), not seeding. The
bundle is $NKBRIEF_BUNDLE or dist/nkbrief (build it with scripts/build_bundle.sh); without
one the benchmark reports itself skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bundle_exe() -> Path | None:
    folder = Path(os.environ.get("NKBRIEF_BUNDLE") or ROOT / "dist" / "nkbrief")
    for name in ("nkbrief.exe", "nkbrief"):
        if (folder / name).is_file():
            return folder / name
    return None


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NKBRIEF_", "QT_"))}
    for k in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env[k] = str(tmp / k.lower())
        Path(env[k]).mkdir(parents=True, exist_ok=True)
    env.update(NKBRIEF_DB=str(tmp / "store.sqlite3"), QT_QPA_PLATFORM="offscreen")
    return env


def _timed(argv: list[str], env: dict, cwd: Path) -> float:
    t = time.perf_counter()
    r = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} exited {r.returncode}: {r.stderr.strip()[-300:]}")
    return dt


def _best(argv: list[str], env: dict, cwd: Path, repeat: int) -> float:
    _timed(argv, env, cwd)  # warm the file cache; the first start from disk is not the point
    return min(_timed(argv, env, cwd) for _ in range(repeat))


def bundle_startup(quick: bool) -> dict:
    """--screenshot from the bundle vs from source, best of N (goal: bundle <= 1.5x source)."""
    exe = _bundle_exe()
    if exe is None:
        return {"skipped": "no bundle built (scripts/build_bundle.sh, or set NKBRIEF_BUNDLE)"}
    if not (ROOT / "ui" / "app.py").exists():
        return {"skipped": "ui/app.py is not written yet: no window to start"}
    repeat = 2 if quick else 5
    from bench.bench_ui import compile_bytecode

    compile_bytecode()  # the source side as installed (bootstrap.sh); the bundle holds bytecode too
    tmp = Path(tempfile.mkdtemp(prefix="nkbrief-bench-"))
    try:
        env = _env(tmp)
        shot = str(tmp / "shot.png")
        source = [sys.executable, str(ROOT / "main.py"), "--screenshot", shot]
        bundle = [str(exe), "--screenshot", shot]
        _timed([sys.executable, str(ROOT / "main.py"), "list"], env, tmp)  # seed the store once
        baseline = _best(source, env, tmp, repeat)
        value = _best(bundle, env, tmp, repeat)
        list_source = _best([sys.executable, str(ROOT / "main.py"), "list"], env, tmp, repeat)
        list_bundle = _best([str(exe), "list"], env, tmp, repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"value": value, "baseline": baseline, "goal": 1.5, "repeat": repeat,
            "bundle": str(exe.parent),
            "headless_list": {"bundle": round(list_bundle, 3), "source": round(list_source, 3)}}


BENCHMARKS = {"bundle_startup": bundle_startup}
