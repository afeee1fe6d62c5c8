"""Core benchmarks (loading the store, ``list --json``) and the timing rules every bench follows.

The rules (bench/README.md says what each benchmark times on each side):

- :func:`paired` runs the app's side and the baseline's side the same number of times,
  alternately (so a burst of load from elsewhere on the machine hits both), and reports
  the same statistic for both: the fastest run (``min``), with the medians beside it.
- Each run prepares its own inputs outside the timer and starts from empty caches: a
  fresh connection, a fresh model, a deep copy of the frame no earlier run has touched.
- ``gc.collect()`` before every timed run, and the collector in the same state on both
  sides (on, unless the app's code pauses it, and then paused for the baseline too).
"""

from __future__ import annotations

import gc
import io
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def paired(value_run: Callable[[], float], baseline_run: Callable[[], float], repeat: int) -> dict:
    """Time both sides ``repeat`` times each, alternately. Each ``*_run`` does its untimed
    preparation itself and returns the seconds of its timed part. Returns ``value`` and
    ``baseline`` (fastest run of each), their medians and the repeat count."""
    values, baselines = [], []
    for _ in range(repeat):
        gc.collect()
        values.append(value_run())
        gc.collect()
        baselines.append(baseline_run())
    return {"value": min(values), "baseline": min(baselines), "statistic": f"min of {repeat}",
            "value_median": round(statistics.median(values), 6),
            "baseline_median": round(statistics.median(baselines), 6), "repeat": repeat}


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result) of one call."""
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def best_of(fn, repeat: int) -> float:
    """The fastest of ``repeat`` timed calls of ``fn`` (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def plain_connection(path) -> sqlite3.Connection:
    """A connection with the store's own settings (``Store.open``), reading plain tuples
    as the store's frame loader does (it switches ``sqlite3.Row`` off for bulk reads)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


# ---------------------------------------------------------------- store_load_100k
def store_load_100k(quick: bool) -> dict:
    """events_frame() vs pd.read_sql of the same columns, each on a fresh connection."""
    from bench.synth import make_store
    from nkbrief.store import _EVENT_COLS

    n = 20_000 if quick else 100_000
    sql = f"SELECT {', '.join(_EVENT_COLS)} FROM events"
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.sqlite3"
        make_store(path, n).close()
        res = _store_load_pair(path, n, sql, 3 if quick else 5)
        # For reading only: the same events stored in date order (as the bundled data and
        # most imports are), where the loader has nothing to reorder.
        ordered = Path(d) / "ordered.sqlite3"
        _date_ordered_copy(path, ordered)
        res_ordered = _store_load_pair(ordered, n, sql, 3)
    return {**res, "goal": 1.3, "n": n, "stored_order": "random (synthetic ids in insertion order)",
            "ratio_date_ordered_store": round(res_ordered["value"] / res_ordered["baseline"], 3)}


def _date_ordered_copy(src: Path, dst: Path) -> None:
    from nkbrief.store import Store

    Store.open(dst, seed=False).close()
    c = sqlite3.connect(dst, isolation_level=None)
    c.execute("ATTACH DATABASE ? AS src", (str(src),))
    c.execute("BEGIN")
    c.execute("INSERT INTO batches SELECT * FROM src.batches")
    c.execute("INSERT INTO events SELECT * FROM src.events ORDER BY date, COALESCE(time_kst, ''), id")
    c.execute("COMMIT")
    c.close()


def _store_load_pair(path: Path, n: int, sql: str, repeat: int) -> dict:
    import pandas as pd

    from nkbrief.common import gc_paused
    from nkbrief.store import _EVENT_COLS, Store

    def app() -> float:
        st = Store.open(path, seed=False)  # a new connection: SQLite's page cache empty
        dt, df = timed(st.events_frame)
        st.close()
        assert len(df) == n
        return dt

    def baseline() -> float:
        conn = plain_connection(path)
        # the loader pauses the collector itself (gc_paused), so the baseline runs inside the same
        with gc_paused():
            dt, df = timed(lambda: pd.read_sql(sql, conn))
        conn.close()
        assert len(df) == n and list(df.columns) == _EVENT_COLS
        return dt

    return paired(app, baseline, repeat)


# ---------------------------------------------------------------- list_json_100k
def list_json_100k(quick: bool) -> dict:
    """``nkbrief list --json`` (in process, into a file) vs json.dumps of the same list of
    dicts written once to a file; the two files are checked byte for byte equal."""
    from bench.synth import make_store
    from nkbrief.cli import main as cli_main
    from nkbrief.common import gc_paused

    n = 20_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        db = d / "bench.sqlite3"
        make_store(db, n).close()
        out_app, out_base = d / "app.json", d / "base.json"

        def app() -> float:
            # stdout as a shell redirect gives it: a file, unbuffered when $PYTHONUNBUFFERED is set
            if os.environ.get("PYTHONUNBUFFERED"):
                f = io.TextIOWrapper(io.FileIO(out_app, "w"), encoding="utf-8", write_through=True)
            else:
                f = open(out_app, "w", encoding="utf-8")
            old, sys.stdout = sys.stdout, f
            try:
                dt, code = timed(lambda: cli_main(["list", "--json", "--db", str(db)]))
            finally:
                sys.stdout = old
                f.close()
            assert code == 0
            return dt

        def baseline() -> float:
            records = json.loads(out_app.read_text(encoding="utf-8"))  # the same list of dicts
            gc.collect()

            def dump():
                with open(out_base, "w", encoding="utf-8") as f:
                    f.write(json.dumps(records, ensure_ascii=False, separators=(",", ":")) + "\n")

            # `list` pauses the collector while it streams (gc_paused): the baseline runs inside the same
            with gc_paused():
                dt, _ = timed(dump)
            del records
            return dt

        res = paired(app, baseline, 3 if quick else 5)
        same = out_app.read_bytes() == out_base.read_bytes()
        assert same, "list --json and json.dumps of its records differ"
        # for reading only: the whole command as a user runs it, interpreter start included
        env = dict(os.environ)
        t = time.perf_counter()
        with open(d / "proc.json", "wb") as f:
            subprocess.run([sys.executable, str(ROOT / "main.py"), "list", "--json", "--db", str(db)],
                           stdout=f, check=True, env=env, cwd=ROOT)
        process_s = time.perf_counter() - t
    return {**res, "goal": 2.0, "n": n, "identical_output": same, "process_s": round(process_s, 3)}


BENCHMARKS = {"store_load_100k": store_load_100k, "list_json_100k": list_json_100k}
