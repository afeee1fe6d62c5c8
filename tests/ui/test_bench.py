"""The benchmarks run: every one returns a value and a baseline (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

#: Benchmarks that may legitimately report themselves skipped here, and why.
MAY_SKIP = {"bundle_startup": "no bundle built",
            # only where PostgreSQL cannot be installed (under CI that is an error instead)
            "store_load_100k_pg": "no PostgreSQL test server",
            "import_csv_100k_pg": "no PostgreSQL test server"}


def test_every_benchmark_module_is_collected():
    from bench.run import collect

    names = set(collect())
    assert {"store_load_100k", "list_json_100k", "table_sort_100k", "table_filter_100k", "startup",
            "startup_ready", "import_csv_100k", "import_xlsx_100k", "store_load_100k_pg",
            "import_csv_100k_pg"} <= names


@pytest.mark.slow
def test_quick_run_finishes_and_every_benchmark_returns_value_and_baseline(tmp_path):
    from bench.run import collect

    env = {k: v for k, v in os.environ.items() if not k.startswith("NKBRIEF_")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_DATA_HOME=str(tmp_path / "d"),
               NKBRIEF_DB=str(tmp_path / "never-used.sqlite3"))
    r = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--quick"], capture_output=True,
                       text=True, cwd=REPO, env=env, timeout=1800)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert set(out) == set(collect())
    for name, res in out.items():
        assert "error" not in res, (name, res, r.stderr[-2000:])
        if "skipped" in res:
            assert name in MAY_SKIP and MAY_SKIP[name] in res["skipped"], (name, res)
            continue
        assert isinstance(res["value"], float) and res["value"] > 0, name
        assert isinstance(res["baseline"], float) and res["baseline"] > 0, name
        assert "goal" in res and "ratio" in res and "met" in res, name
    assert out["import_csv_100k"]["ratio_read_csv"] > 0  # both of its ratios are reported
    assert out["list_json_100k"]["identical_output"] is True
    xl = out["import_xlsx_100k"]  # three runs a side; the medians' and CPU ratios beside the goal's
    assert xl["repeat"] == 3 and len(xl["value_runs"]) == len(xl["baseline_runs"]) == 3
    assert xl["ratio_median"] > 0 and xl["ratio_cpu"] > 0
    st = out["startup"]  # each process's CPU time to its first paint, beside the wall clock
    assert st["value_cpu_s"] > 0 and st["baseline_cpu_s"] > 0 and st["ratio_cpu"] > 0
    assert not (REPO / "never-used.sqlite3").exists() and not (tmp_path / "never-used.sqlite3").exists()


def test_bench_compiles_bytecode_as_bootstrap_does():
    from bench.bench_ui import COMPILE_BYTECODE

    boot = (REPO / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    assert f".venv/bin/python {' '.join(COMPILE_BYTECODE)}" in boot


def test_bench_xlsx_is_written_as_excel_writes_it(tmp_path):
    """The import_xlsx_100k file carries a <dimension> (Excel and LibreOffice always write one):
    without it openpyxl parses the whole sheet a second time on both sides, which made the
    app's own share of the time look smaller than on an analyst's file. Its text is in a
    shared string table, as Excel keeps it, and reads back as the rows it was made from."""
    import zipfile

    import openpyxl

    from bench.bench_import import HEADER, _rows, _xlsx
    from nkbrief.importing.importer import read_file
    from openpyxl.utils import get_column_letter

    p = _xlsx(tmp_path / "c.xlsx", 20)
    with zipfile.ZipFile(p) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert f'<dimension ref="A1:{get_column_letter(len(HEADER))}21"/>'.encode() in sheet
    assert b"inlineStr" not in sheet and b't="s"' in sheet
    t = read_file(p)
    assert t.rows_total == 20 and not t.notes  # the declared size is the true one: no note
    wb = openpyxl.load_workbook(p, read_only=True)
    try:
        got = [[None if v == "" else v for v in r] for r in wb["Launches"].iter_rows(values_only=True)]
    finally:
        wb.close()
    assert got == [HEADER] + [[None if v == "" else v for v in r] for r in _rows(20)]
