"""Import speed against the readers it stands on, measured in the same run.

- ``import_csv_100k``: a colleague-style CSV of 100k launch rows (units in cells, text,
  URLs) imported into an empty store (read, check every row, merge, write one batch)
  against its floor: the same C parser reading every cell as text (``read_floor_s``) plus
  SQLite writing the imported rows again with no checking at all (``write_floor_s``) --
  what any import that reads every cell and stores it must spend. Goal 3x. The ratio to
  plain ``pd.read_csv`` of the file is reported beside it (``ratio_read_csv``; the old
  5x goal against it is withdrawn).
- ``import_xlsx_100k``: the same rows as an .xlsx as Excel writes one (a declared size,
  a shared string table: :func:`_xlsx`), against a plain openpyxl read-only iteration over
  its rows. Goal 1.2x.

The app reads with the garbage collector paused (``gc_paused``), so every baseline and
floor runs inside the same ``gc_paused()``. Both sides run the same number of times,
alternately (three times each), and report the fastest run, with the medians beside it;
``import_xlsx_100k`` also reports the medians' ratio and the ratio of CPU time. Each result also splits the value into
``read_check_s`` (read_file: sniff, guard, parse, validate) and ``write_s`` (plan_merge +
apply_import). ``--quick`` uses 10k rows.
"""

from __future__ import annotations

import csv
import gc
import tempfile
import time
from pathlib import Path

from bench.synth import make_events

HEADER = ["Date", "Time (KST)", "Type", "Missile", "Number", "Distance", "Apogee", "Launch site",
          "Latitude", "Longitude", "Landing", "Result", "Description", "Source", "Notes"]


def _rows(n: int) -> list[list]:
    out = []
    for ev in make_events(n, seed=7):
        out.append([ev["date"], ev["time_kst"], ev["missile_class"], ev["missile_name"], ev["count"],
                    f"{ev['distance_km']:,} km" if ev["distance_km"] is not None else "Unknown",
                    f"~{ev['apogee_km']}km" if ev["apogee_km"] is not None else "N/A",
                    ev["launch_site"], ev["latitude"], ev["longitude"], ev["landing_area"], ev["outcome"],
                    ev["description"], ev["sources"][0], ev["notes"]])
    return out


def _csv(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(_rows(n))
    return path


def _xlsx(path: Path, n: int) -> Path:
    """The rows as an .xlsx written as Excel and LibreOffice write one:

    - the sheet declares its size in a ``<dimension>`` element. openpyxl's write-only mode
      leaves it out, and openpyxl's reader then parses the whole sheet once more only to
      look for it (~27% of either side's time), which made the app's own work look smaller
      than on an analyst's file;
    - text is in a shared string table (``xl/sharedStrings.xml``, each distinct text once;
      cells hold its index), not in the cells as openpyxl writes it (``inlineStr``), and an
      empty text is a blank cell. Reading a cell's own text costs openpyxl about twice what
      an index costs, so inline text also made the baseline slower than on a real file.
    """
    import re
    import zipfile

    import openpyxl
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Launches")
    ws.append(HEADER)
    width = len(HEADER)
    for r in _rows(n):
        width = max(width, len(r))
        ws.append(r)
    raw = path.with_suffix(".raw.xlsx")
    wb.save(raw)
    dimension = f'<dimension ref="A1:{get_column_letter(width)}{n + 1}"/>'.encode()
    index: dict[bytes, int] = {}  # a <t> element, exactly as written -> its place in the table
    uses = 0

    def shared(m: re.Match) -> bytes:
        nonlocal uses
        if m.group(2) is None:
            return b""  # an empty text: no cell
        uses += 1
        i = index.setdefault(m.group(2), len(index))
        return b'<c r="' + m.group(1) + b'" t="s"><v>' + str(i).encode() + b"</v></c>"

    ns = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    with zipfile.ZipFile(raw) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                head, sep, tail = data.partition(b"</sheetPr>")  # its place in the schema's order
                assert sep and b"<dimension" not in data, "openpyxl's sheet layout changed"
                data = re.sub(rb'<c r="([A-Z]+[0-9]+)" t="inlineStr"(?: />|><is>(<t[^>]*>[^<]*</t>)</is></c>)',
                              shared, head + sep + dimension + tail)
                assert b"inlineStr" not in data, "openpyxl's inline text changed"
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                    b'sharedStrings+xml"/></Types>')
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdStrings" Type="http://'
                                    b"schemas.openxmlformats.org/officeDocument/2006/relationships/"
                                    b'sharedStrings" Target="sharedStrings.xml"/></Relationships>')
            zout.writestr(item, data)
        table = [b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="' + ns
                 + f'" count="{uses}" uniqueCount="{len(index)}">'.encode()]
        table += [b"<si>" + t + b"</si>" for t in index]
        zout.writestr("xl/sharedStrings.xml", b"".join(table) + b"</sst>")
    raw.unlink()
    return path


def _timed(fn) -> float:
    """Seconds of one call of ``fn``, with the collector paused as the app's reading has it."""
    from nkbrief.importing.merge import gc_paused

    gc.collect()
    with gc_paused():
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t


def _import(path: Path, db: Path) -> dict:
    from nkbrief.importing.importer import apply_import, read_file
    from nkbrief.store import Store

    db.unlink(missing_ok=True)
    st = Store.open(db, seed=False)
    c0 = time.process_time()
    t0 = time.perf_counter()
    parsed = read_file(path)
    t1 = time.perf_counter()
    res = apply_import(st, parsed)
    t2 = time.perf_counter()
    c2 = time.process_time()
    st.close()
    assert res.added == len(parsed.incoming) and not parsed.rejections
    return {"value": t2 - t0, "read_check_s": round(t1 - t0, 4), "write_s": round(t2 - t1, 4),
            "rows": parsed.rows_total, "cpu_s": c2 - c0}


def _write_floor(db: Path, scratch: Path) -> float:
    """Seconds to write the imported events again, exactly as stored, into an empty store
    with no checking at all: SQLite's share of the import, the part no amount of Python
    work can remove."""
    import sqlite3

    from nkbrief.store import Store, _insert_rows, bulk_layout

    src = sqlite3.connect(db)
    names = [r[1] for r in src.execute("PRAGMA table_info(events)").fetchall()]
    rows = src.execute(f"SELECT {', '.join(names)} FROM events ORDER BY id").fetchall()
    src.close()
    cols = [list(c) for c in zip(*rows)]
    varying, same = bulk_layout(cols)  # bound as the store binds them
    rows = list(zip(*(cols[i] for i in varying)))
    scratch.unlink(missing_ok=True)
    Store.open(scratch, seed=False).close()
    c = sqlite3.connect(scratch, isolation_level=None)
    c.execute("PRAGMA foreign_keys = ON")  # as the store has it
    c.execute("PRAGMA synchronous = FULL")
    c.execute("INSERT INTO batches(id, kind, created_utc, user) VALUES (1, 'import', 'x', 'bench')")
    def write():
        c.execute("BEGIN")
        _insert_rows(c, "events", [names[i] for i in varying + same], rows, tuple(cols[i][0] for i in same))
        c.execute("COMMIT")

    took = _timed(write)
    c.close()
    return took


def import_csv_100k(quick: bool) -> dict:
    import pandas as pd

    from bench.bench_core import paired

    n = 10_000 if quick else 100_000
    repeat = 3
    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        src = _csv(d / "colleague.csv", n)

        def app() -> float:
            gc.collect()
            runs.append(_import(src, d / "s.sqlite3"))  # the app pauses the collector itself
            return runs[-1]["value"]

        floors: list[tuple[float, float]] = []

        def floor() -> float:
            # every cell read as text by the same C parser, plus SQLite writing the result
            read = _timed(lambda: pd.read_csv(src, dtype=str, na_filter=False, keep_default_na=False))
            write = _write_floor(d / "s.sqlite3", d / "floor.sqlite3")
            floors.append((read, write))
            return read + write

        res = paired(app, floor, repeat)
        read_csv = min(_timed(lambda: pd.read_csv(src)) for _ in range(repeat))
    best = min(runs, key=lambda r: r["value"])
    read_floor, write_floor = min(floors, key=sum)
    return {**res, "goal": 3.0, "n": n, "rows": best["rows"], "read_check_s": best["read_check_s"],
            "write_s": best["write_s"], "read_floor_s": round(read_floor, 4),
            "write_floor_s": round(write_floor, 4), "read_csv_s": round(read_csv, 4),
            "ratio_read_csv": round(res["value"] / read_csv, 3),
            "floor_ratio": round((read_floor + write_floor) / read_csv, 3),
            "baseline_is": "floor: pd.read_csv(dtype=str) + unchecked SQLite write of the same rows"}


def import_xlsx_100k(quick: bool) -> dict:
    import openpyxl

    from bench.bench_core import paired

    n = 10_000 if quick else 100_000
    # Three runs a side, alternated: one run is 16-20 s of a single core, so a burst of load
    # from elsewhere on a shared machine can hit one run of a pair and not the other. With
    # two runs a side, full runs gave 1.23, 1.17 and 1.45 on the same code.
    repeat = 3
    runs: list[dict] = []
    base_runs: list[tuple[float, float]] = []  # (wall, CPU) seconds of each baseline run
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        src = _xlsx(d / "colleague.xlsx", n)

        def app() -> float:
            gc.collect()
            runs.append(_import(src, d / "s.sqlite3"))
            return runs[-1]["value"]

        def plain():
            wb = openpyxl.load_workbook(src, read_only=True, data_only=True)
            for _ in wb["Launches"].iter_rows(values_only=True):
                pass
            wb.close()

        def baseline() -> float:
            from nkbrief.importing.merge import gc_paused

            gc.collect()
            with gc_paused():  # as _timed, with the CPU time measured the same way as the app's
                c, t = time.process_time(), time.perf_counter()
                plain()
                took, cpu = time.perf_counter() - t, time.process_time() - c
            base_runs.append((took, cpu))
            return took

        res = paired(app, baseline, repeat)
    best = min(runs, key=lambda r: r["value"])
    # For reading beside the goal (which is on wall-clock time, min of N): the medians' ratio,
    # and the ratio of this process's CPU time (fastest run a side), which the machine's other
    # work disturbs less than the wall clock.
    app_cpu, base_cpu = min(r["cpu_s"] for r in runs), min(c for _, c in base_runs)
    return {**res, "goal": 1.2, "n": n, "rows": best["rows"], "read_check_s": best["read_check_s"],
            "write_s": best["write_s"],
            "ratio_median": round(res["value_median"] / res["baseline_median"], 3),
            "value_cpu_s": round(app_cpu, 4), "baseline_cpu_s": round(base_cpu, 4),
            "ratio_cpu": round(app_cpu / base_cpu, 3),
            "value_runs": [round(r["value"], 3) for r in runs],
            "baseline_runs": [round(w, 3) for w, _ in base_runs]}


BENCHMARKS = {"import_csv_100k": import_csv_100k, "import_xlsx_100k": import_xlsx_100k}


if __name__ == "__main__":
    import json
    import sys

    quick = "--quick" in sys.argv
    print(json.dumps({k: fn(quick) for k, fn in BENCHMARKS.items()}, indent=1))
