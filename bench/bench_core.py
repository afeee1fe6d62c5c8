"""Core benchmarks: loading the store into a frame."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.synth import make_store


def best_of(fn, repeat: int) -> float:
    """The fastest of ``repeat`` timed calls of ``fn`` (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def store_load_100k(quick: bool) -> dict:
    """events_frame() on 100k events vs pd.read_sql of the same table (goal <= 1.5x)."""
    n = 20_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as d:
        st = make_store(Path(d) / "bench.sqlite3", n)
        repeat = 2 if quick else 3
        value = best_of(st.events_frame, repeat)
        baseline = best_of(lambda: pd.read_sql("SELECT * FROM events", st._conn), repeat)
        st.close()
    return {"value": value, "baseline": baseline, "goal": 1.5, "n": n}


BENCHMARKS = {"store_load_100k": store_load_100k}
