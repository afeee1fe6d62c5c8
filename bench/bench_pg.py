"""The team store on PostgreSQL against baselines measured in the same run (bench/README.md).

- ``store_load_100k_pg``: ``Store.events_frame()`` on a team store of 100k synthetic events
  against ``pd.read_sql`` of the same columns through the same connection (the store's own
  psycopg connection, opened fresh for each run). Goal 1.5x.
- ``import_csv_100k_pg``: the 100k-row colleague CSV of ``import_csv_100k`` imported
  (``read_file`` + ``apply_import``) into an empty team store against the same import into
  an empty SQLite store. Goal 2x.

The server is the one in $NKBRIEF_TEST_PG (scripts/run_tests.sh starts one) or a throwaway
one from scripts/pg_test_server.sh, removed at the end; each benchmark works in its own new
database. Without a server (no PostgreSQL installed) both report themselves skipped with
the reason; under CI ($CI set) that is an error instead. ``--quick`` uses 10k rows.
"""

from __future__ import annotations

import atexit
import gc
import sqlite3
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))  # tests/pgtest.py: the test servers

_server_cache: dict = {}


class _Skip(Exception):
    pass


def _server():
    """The run's server (started once, removed at exit when this process started it)."""
    if "server" not in _server_cache:
        import pgtest

        try:
            server, ours = pgtest.session_server()
        except pgtest.NoServer as exc:
            _server_cache["server"] = exc
        else:
            _server_cache["server"] = server
            if ours:
                atexit.register(server.destroy)
    got = _server_cache["server"]
    if isinstance(got, Exception):
        if getattr(got, "must_fail", False):
            raise RuntimeError(str(got))
        raise _Skip(str(got))
    return got


def _skippable(fn):
    def run(quick: bool) -> dict:
        try:
            return fn(quick)
        except _Skip as e:
            return {"skipped": str(e)}
    run.__doc__ = fn.__doc__
    return run


def _team_store(server) -> str:
    """A new database set up by init-server (no events): its URL."""
    from nkbrief.store.admin import init_server

    url = server.create_database("nkb_bench")
    init_server(url)
    return url


def _fill_from_sqlite(url: str, src: Path) -> None:
    """Copy the batches and events of the SQLite store at ``src`` into the team store at
    ``url`` as they are (COPY), so both engines hold the same rows."""
    import psycopg

    lite = sqlite3.connect(src)
    with psycopg.connect(url) as conn:
        for table in ("batches", "events"):
            names = [r[1] for r in lite.execute(f"PRAGMA table_info({table})").fetchall()]
            rows = lite.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()
            cols = ", ".join(f'"{n}"' for n in names)
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
        conn.execute("SELECT setval(pg_get_serial_sequence('batches', 'id'), (SELECT max(id) FROM batches))")
        conn.execute("ANALYZE")
    lite.close()


# ---------------------------------------------------------------- store_load_100k_pg
@_skippable
def store_load_100k_pg(quick: bool) -> dict:
    """events_frame() on a team store vs pd.read_sql of the same columns, same connection."""
    import pandas as pd

    from bench.bench_core import paired, timed
    from bench.synth import make_store
    from nkbrief.store import _EVENT_COLS, Store
    from nkbrief.store.pg import translate

    server = _server()
    n = 10_000 if quick else 100_000
    sql = translate(f"SELECT {', '.join(_EVENT_COLS)} FROM events", False)
    url = _team_store(server)
    try:
        with tempfile.TemporaryDirectory() as d:
            lite = Path(d) / "synth.sqlite3"
            make_store(lite, n).close()
            _fill_from_sqlite(url, lite)

        cpu: dict[str, list[float]] = {"app": [], "baseline": []}

        def app() -> float:
            st = Store.open(url)  # a new connection for each run, as the SQLite bench has
            c0 = time.process_time()
            dt, df = timed(st.events_frame)
            cpu["app"].append(time.process_time() - c0)
            st.close()
            assert len(df) == n
            return dt

        def baseline() -> float:
            st = Store.open(url)
            raw = st._conn.raw  # the store's own psycopg connection
            with warnings.catch_warnings():
                # pandas warns that it has tested only SQLAlchemy and sqlite3 connections
                warnings.simplefilter("ignore", UserWarning)
                c0 = time.process_time()
                dt, df = timed(lambda: pd.read_sql(sql, raw))
                cpu["baseline"].append(time.process_time() - c0)
            st.close()
            assert len(df) == n and list(df.columns) == _EVENT_COLS
            return dt

        res = paired(app, baseline, 3 if quick else 5)
    finally:
        server.drop_database(url)
    # for reading: this process's CPU time alone (the server's work, in its own process, is
    # the same query on both sides), fastest run of each
    return {**res, "goal": 1.5, "n": n, "server": _version(server),
            "ratio_cpu": round(min(cpu["app"]) / min(cpu["baseline"]), 3)}


def _version(server) -> str:
    with server.connect() as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


# ---------------------------------------------------------------- import_csv_100k_pg
@_skippable
def import_csv_100k_pg(quick: bool) -> dict:
    """The same CSV imported into an empty team store vs into an empty SQLite store."""
    from bench.bench_core import paired
    from bench.bench_import import _csv, _import
    from nkbrief.importing.importer import apply_import, read_file
    from nkbrief.store import Store

    server = _server()
    n = 10_000 if quick else 100_000
    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        src = _csv(d / "colleague.csv", n)

        def app() -> float:
            url = _team_store(server)  # an empty store, set up outside the timer
            try:
                st = Store.open(url)
                gc.collect()
                t0 = time.perf_counter()
                parsed = read_file(src)
                t1 = time.perf_counter()
                res = apply_import(st, parsed)
                t2 = time.perf_counter()
                st.close()
            finally:
                server.drop_database(url)
            assert res.added == len(parsed.incoming) == n and not parsed.rejections
            runs.append({"value": t2 - t0, "read_check_s": round(t1 - t0, 4), "write_s": round(t2 - t1, 4)})
            return t2 - t0

        sqlite_runs: list[dict] = []

        def baseline() -> float:
            gc.collect()
            sqlite_runs.append(_import(src, d / "s.sqlite3"))  # the import_csv_100k app side
            return sqlite_runs[-1]["value"]

        res = paired(app, baseline, 2 if quick else 3)
    best = min(runs, key=lambda r: r["value"])
    best_lite = min(sqlite_runs, key=lambda r: r["value"])
    return {**res, "goal": 2.0, "n": n, "read_check_s": best["read_check_s"], "write_s": best["write_s"],
            "sqlite_read_check_s": best_lite["read_check_s"], "sqlite_write_s": best_lite["write_s"],
            "server": _version(server), "baseline_is": "the same import into an empty SQLite store"}


BENCHMARKS = {"store_load_100k_pg": store_load_100k_pg, "import_csv_100k_pg": import_csv_100k_pg}


if __name__ == "__main__":
    import json

    quick = "--quick" in sys.argv
    print(json.dumps({k: fn(quick) for k, fn in BENCHMARKS.items()}, indent=1))
