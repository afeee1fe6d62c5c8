"""Briefing-pack benchmarks.

- ``pack_10k``: building the full pack of 10,000 events, against openpyxl's write-only mode
  dumping exactly the same cell values (read back from the built pack) with no styles,
  tables, charts, picture or checks. Goal: at most 1.5 times the plain dump.
- ``pack_rss``: peak resident memory of a process building the pack of 10,000 events against
  one building 1,000 (each in its own subprocess). The builder streams, so the goal is
  "nearly flat": at most 1.2 times.

    python bench/run.py --only pack_10k,pack_rss [--quick]
    python bench/bench_pack.py [--quick]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def make_pack_store(path: Path, n: int, seed: int = 0):
    """``n`` synthetic events with realistic text, missiles and statements, plus the bundled calendar."""
    import numpy as np

    from bench.synth import make_events
    from nkbrief.store.dataset import load_bundled_calendar
    from nkbrief.resources import resource_path
    from nkbrief.store import Store

    rng = np.random.default_rng(seed)
    words = ("launch missile ballistic east sea coast range apogee flight joint chiefs staff detected "
             "reported analysts suggest solid fuel transporter erector launcher test pattern").split()
    st = Store.open(path, seed=False)
    b = st.new_batch("manual")
    with st.write():
        for i, ev in enumerate(make_events(n, seed)):
            k = int(rng.integers(20, 60))
            ev["description"] = " ".join(words[j] for j in rng.integers(0, len(words), k)).capitalize() + "."
            ev["sources"] = [f"https://example.invalid/news/{i}/{j}" for j in range(int(rng.integers(1, 4)))]
            ev["sources"].append(f"Ministry statement {i % 500}")  # shared across events
            missiles = [{"seq": s + 1, "missile_name": ev["missile_name"],
                         "missile_class": ev["missile_class"],
                         "distance_km": ev["distance_km"], "outcome": "success",
                         "source_ref": f"https://example.invalid/m/{i}"}
                        for s in range(int(rng.integers(1, 4)))] if i % 3 == 0 else []
            statements = [{"actor": "Seoul", "summary": "Condemned the launch as a provocation.",
                           "source": "https://example.invalid/s"}] if i % 10 == 0 else []
            st.insert_event(ev, b, missiles=missiles, statements=statements, audit=False)
        for entry in load_bundled_calendar(resource_path("calendar.csv")):
            st.insert_calendar_entry(entry, b, audit=False)
    return st


def _build(st, out: Path) -> Path:
    from nkbrief.briefing.pack import PackOptions, build_pack

    ids = list(st.events_frame()["id"])
    return build_pack(st, ids, PackOptions(output=out, title="Benchmark pack", author="bench",
                                           key_judgments=["One.", "Two."], classification="SECRET"))


def _plain_dump(sheets: list[tuple[str, list[tuple]]], out: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(out)


def pack_10k(quick: bool) -> dict:
    """The full pack against a write-only dump of the same cells, three runs a side,
    alternated (``paired``), after one untimed build that gives the dump its cells and warms
    what both sides share (the store's pages, openpyxl's writer)."""
    import openpyxl

    from bench.bench_core import paired

    n = 2_000 if quick else 10_000
    repeat = 1 if quick else 3
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        st = make_pack_store(d / "s.sqlite3", n)
        path = _build(st, d / "cells.xlsx")
        wb = openpyxl.load_workbook(path, read_only=True)
        sheets = [(ws.title, [tuple(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets]
        wb.close()
        cells = sum(sum(v is not None for v in r) for _, rows in sheets for r in rows)
        runs = iter(range(2 * repeat))

        def app() -> float:
            t = time.perf_counter()
            _build(st, d / f"pack{next(runs)}.xlsx")
            return time.perf_counter() - t

        def baseline() -> float:
            t = time.perf_counter()
            _plain_dump(sheets, d / f"plain{next(runs)}.xlsx")
            return time.perf_counter() - t

        res = paired(app, baseline, repeat)
        st.close()
    return {**res, "goal": 1.5, "events": n, "cells": cells,
            "note": "full pack vs write-only plain dump of the same cell values"}


_CHILD = r"""
import resource, sys
sys.path.insert(0, sys.argv[3])
from nkbrief.store import Store
from nkbrief.briefing.pack import PackOptions, build_pack
st = Store.open(sys.argv[1], seed=False)
ids = [r[0] for r in st._execute("SELECT id FROM events ORDER BY date, id")]  # the builder's memory only
build_pack(st, ids, PackOptions(output=sys.argv[2], classification="SECRET"))
st.close()
# VmHWM is this process's own peak; ru_maxrss on Linux also keeps the parent's peak at fork.
try:
    with open("/proc/self/status") as f:
        print(next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")))  # KiB
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1))
"""


def _child_rss_kib(db: Path, out: Path) -> int:
    r = subprocess.run([sys.executable, "-c", _CHILD, str(db), str(out), str(ROOT)], capture_output=True,
                       text=True, timeout=900, cwd=ROOT)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "child failed")
    return int(r.stdout.strip().splitlines()[-1])


def pack_rss(quick: bool) -> dict:
    try:
        import resource  # noqa: F401  (POSIX only)
    except ImportError:
        return {"skipped": "peak RSS needs the POSIX resource module"}
    small, big = (1_000, 5_000) if quick else (1_000, 10_000)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        make_pack_store(d / "small.sqlite3", small).close()
        make_pack_store(d / "big.sqlite3", big).close()
        base = _child_rss_kib(d / "small.sqlite3", d / "small.xlsx")
        value = _child_rss_kib(d / "big.sqlite3", d / "big.xlsx")
    return {"value": value / 1024, "baseline": base / 1024, "goal": 1.2, "unit": "MiB peak RSS",
            "events": [small, big]}


BENCHMARKS = {"pack_10k": pack_10k, "pack_rss": pack_rss}


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print(json.dumps({k: fn(quick) for k, fn in BENCHMARKS.items()}, indent=1))
