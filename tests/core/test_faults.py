"""Fault injection (issue 13): every hostile case gets one exact line, its exit code, no
traceback, and leaves the store -- its bytes, WAL included, and its events -- as it was.
For the write guard, the destination or input file is unchanged too.

The cases are generated here: the store (rollback journal, or WAL with an open reader so
its -wal file holds data), destinations that are the store by another name, FIFOs, devices,
symlinks, folders and missing folders, hostile values in CSV, JSON and .xlsx, a store that
already holds a bad value, another program's database, a locked store, file names with
control characters, and -- on a small tmpfs, when running as root -- a full disk.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from import_helpers import raw_xlsx, sheet_xml

from nkbrief import private_tmp
from nkbrief.model import rules
from nkbrief.cli import main
from nkbrief.store import Store

REPO = Path(__file__).resolve().parents[2]
BOUND_DATES = f"1950-01-01 to {rules.latest_date()}"


# ------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("tpl") / "store.xlsx"  # a store named like an export target
    Store.open(p).close()
    return p


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(params=["journal", "wal"])
def store(request, tmp_path, template):
    """The store path; in WAL mode a second connection keeps unmerged pages in -wal."""
    d = tmp_path / "data"
    d.mkdir()
    db = d / "store.xlsx"
    shutil.copy(template, db)
    holder = None
    if request.param == "wal":
        holder = sqlite3.connect(db)
        holder.execute("PRAGMA journal_mode = WAL")
        holder.execute("PRAGMA wal_autocheckpoint = 0")
        holder.execute("UPDATE batches SET details = '{}' WHERE id = 1")
        holder.commit()
        assert Path(f"{db}-wal").stat().st_size > 0
    yield db
    if holder is not None:
        holder.close()


def _snapshot(db: Path) -> dict:
    files = {s: (Path(f"{db}{s}").read_bytes() if Path(f"{db}{s}").exists() else None)
             for s in ("", "-wal", "-journal")}
    c = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        events = c.execute("SELECT * FROM events ORDER BY id").fetchall()
        batches = c.execute("SELECT COUNT(*) FROM batches").fetchone()
    finally:
        c.close()
    return {"files": files, "events": events, "batches": batches}


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    return code, out, err


def _refused(capsys, db: Path, argv: list[str], code: int, line: str, unchanged: list[Path] = ()):
    """Run, and check: the exit code, exactly one line on stderr, the store as it was, and
    ``unchanged`` files (byte for byte, or still not there, or still not regular)."""
    before = _snapshot(db)
    kept = {p: _state(p) for p in unchanged}
    got, _out, err = _run(capsys, ["--db", str(db), *argv])
    assert (got, err) == (code, f"nkbrief: {line}\n")
    assert _snapshot(db) == before
    for p, state in kept.items():
        assert _state(p) == state, p


def _state(p: Path):
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return None
    if stat.S_ISREG(st.st_mode):
        return ("file", p.read_bytes())
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(p))
    return (stat.S_IFMT(st.st_mode), st.st_ino)


# ------------------------------------------------------------------------ the write guard
def _destinations(db: Path) -> dict[str, tuple[Path, str]]:
    """name -> (destination, why it is refused)."""
    d = db.parent
    fifo = d / "pipe.xlsx"
    os.mkfifo(fifo)
    link = d / "link.xlsx"
    link.symlink_to(db.name)
    other_link = d / "other-link.xlsx"
    (d / "plain.xlsx").write_bytes(b"plain")
    other_link.symlink_to("plain.xlsx")
    folder = d / "folder.xlsx"
    folder.mkdir()
    odd = d / "odd/../store.xlsx"
    (d / "odd").mkdir()
    hard = d / "hard.xlsx"
    os.link(db, hard)
    return {
        "store": (db, f"cannot write {db}: it is the nkbrief store; choose another file"),
        "store-by-another-name": (odd, f"cannot write {odd}: it is the nkbrief store; choose another file"),
        "store-hard-link": (hard, f"cannot write {hard}: it is the nkbrief store; choose another file"),
        "fifo": (fifo, f"cannot write {fifo}: it is a FIFO (named pipe), not a regular file"),
        "symlink-to-store": (link, f"cannot write {link}: it is a symbolic link; choose the file itself or "
                                   "another name"),
        "symlink": (other_link, f"cannot write {other_link}: it is a symbolic link; choose the file itself "
                                "or another name"),
        "missing-folder": (d / "nope" / "x.xlsx", f"cannot write {d / 'nope' / 'x.xlsx'}: the folder "
                                                  f"{d / 'nope'} does not exist"),
    }


DESTINATIONS = ["store", "store-by-another-name", "store-hard-link", "fifo", "symlink-to-store", "symlink",
                "missing-folder"]


@pytest.mark.parametrize("case", DESTINATIONS)
def test_export_refuses(capsys, store, case):
    dest, why = _destinations(store)[case]
    _refused(capsys, store, ["export", str(dest)], 1, why, [dest])


@pytest.mark.parametrize("case", DESTINATIONS)
def test_pack_refuses(capsys, store, case):
    dest, why = _destinations(store)[case]
    if case == "missing-folder":
        why = f"the folder {dest.parent} does not exist"
    _refused(capsys, store, ["pack", "-o", str(dest)], 1, why, [dest])


@pytest.mark.parametrize("case", DESTINATIONS)
def test_calendar_export_refuses(capsys, store, case):
    dest, why = _destinations(store)[case]
    _refused(capsys, store, ["calendar-export", str(dest)], 1, why, [dest])


def _colleague_csv(d: Path) -> Path:
    p = d / "colleague.csv"
    p.write_text("Date,Type,Count\n2026-02-02,SRBM,2\n2026-02-03,SRBM,5000\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("dry", [False, True])
@pytest.mark.parametrize("case", [*DESTINATIONS, "input", "input-by-another-name", "device", "wal-or-journal"])
def test_rejected_out_refuses_before_any_work(capsys, store, case, dry):
    src = _colleague_csv(store.parent)
    if case.startswith("input"):
        dest = src if case == "input" else store.parent / "odd" / ".." / src.name
        (store.parent / "odd").mkdir(exist_ok=True)
        why = f"cannot write {dest}: it is the file being imported; choose another file"
    elif case == "device":
        dest, why = Path(os.devnull), f"cannot write {os.devnull}: it is a character device, not a regular file"
    elif case == "wal-or-journal":
        dest = Path(f"{store}-wal")
        if not dest.exists():  # a rollback-journal store: its (empty, so not hot) journal
            dest = Path(f"{store}-journal")
            dest.write_bytes(b"")
        why = f"cannot write {dest}: it is a file of the nkbrief store {store}; choose another file"
    else:
        dest, why = _destinations(store)[case]
    argv = ["import", str(src), "--rejected-out", str(dest)] + (["--dry-run"] if dry else [])
    _refused(capsys, store, argv, 2, f"--rejected-out: {why}", [dest, src])


def test_a_write_failing_after_a_committed_import_says_how_to_undo(capsys, store, monkeypatch):
    import nkbrief.exporting.export as export

    src = _colleague_csv(store.parent)
    real = export.atomic.atomic_write

    def full(path, write, **kw):
        return real(path, lambda tmp: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device",
                                                                      str(tmp))), **kw)
    monkeypatch.setattr(export.atomic, "atomic_write", full)
    out_csv = store.parent / "rejected.csv"
    code, _out, err = _run(capsys, ["--db", str(store), "import", str(src), "--rejected-out", str(out_csv)])
    batch = Store.open(store).batches_frame()["id"].max()
    assert (code, err) == (1, f"nkbrief: --rejected-out: cannot write {out_csv}: the disk is full; the file "
                              f"was not changed. The import itself was committed as batch {batch} (1 event "
                              f"added); to take it back: nkbrief undo-import {batch}\n")
    assert not out_csv.exists() and [p.name for p in store.parent.iterdir() if p.name.startswith(".")] == []


def test_calendar_export_failure_names_the_destination_not_the_temp_file(capsys, store, monkeypatch):
    from nkbrief import atomic

    def denied(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(src))
    monkeypatch.setattr(atomic.os, "replace", denied)
    dest = store.parent / "calendar.csv"
    _refused(capsys, store, ["calendar-export", str(dest)], 1, f"cannot write {dest}: Permission denied", [dest])
    assert sorted(p.name for p in store.parent.iterdir() if "calendar" in p.name) == []


# ------------------------------------------------------------------------ hostile values
def _xlsx_number(d: Path, digits: str, name: str) -> Path:
    xml = sheet_xml([["Date", "Type", "Count"], ["2026-01-27", "SRBM", "X"]]).replace(
        b'<c r="C2" t="inlineStr"><is><t>X</t></is></c>', f'<c r="C2"><v>{digits}</v></c>'.encode())
    return raw_xlsx(d / name, xml)


def _value_cases(d: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, the rejection message of its one data row)."""
    def csv(name, text):
        p = d / name
        p.write_text(text, encoding="utf-8")
        return p

    def js(name, text):
        p = d / name
        p.write_text(text, encoding="utf-8")
        return p

    big = "9" * 5000
    return {
        "count-2^63-1": (csv("a.csv", "Date,Type,Count\n2026-01-27,SRBM,9223372036854775807\n"),
                         "row 2: Count '9223372036854775807' must be from 1 to 1,000 (it has 19 digits)"),
        "count-2^63": (csv("b.csv", "Date,Type,Count\n2026-01-27,SRBM,9223372036854775808\n"),
                       "row 2: Count '9223372036854775808' must be from 1 to 1,000 (it has 19 digits)"),
        "count-5000-digits-csv": (csv("c.csv", f"Date,Type,Count\n2026-01-27,SRBM,{big}\n"),
                                  f"row 2: Count '{big[:77]}...' must be from 1 to 1,000 (it has 5,000 digits)"),
        "count-5000-digits-json": (js("c.json", f'[{{"date": "2026-01-27", "missile_class": "SRBM", '
                                                f'"count": {big}}}]'),
                                   "row 1: count '99999999999999999999…' must be from 1 to 1,000 (it has "
                                   "5,000 digits)"),
        "count-5000-digits-xlsx": (_xlsx_number(d, big, "big.xlsx"),
                                   "row 2: Count '99999999999999999999…' must be from 1 to 1,000 (it has "
                                   "5,000 digits)"),
        "count-2^63-xlsx": (_xlsx_number(d, "9223372036854775808", "b.xlsx"),
                            "row 2: Count '9223372036854775808' must be from 1 to 1,000 (it has 19 digits)"),
        "count-over-bound": (csv("d.csv", "Date,Type,Count\n2026-01-27,SRBM,1001\n"),
                             "row 2: Count '1001' must be from 1 to 1,000"),
        "count-zero": (csv("e.csv", "Date,Type,Count\n2026-01-27,SRBM,0\n"),
                       "row 2: Count '0' must be from 1 to 1,000"),
        "distance-over-bound": (csv("f.csv", "Date,Type,Distance\n2026-01-27,SRBM,20001 km\n"),
                                "row 2: Distance '20001 km' must be from 0 to 20,000 km"),
        "apogee-over-bound": (csv("g.csv", "Date,Type,Apogee\n2026-01-27,SRBM,\"10,001 km\"\n"),
                              "row 2: Apogee '10,001 km' must be from 0 to 10,000 km"),
        "date-before-1950": (csv("h.csv", "Date,Type\n1949-12-31,SRBM\n"),
                             f"row 2: Date '1949-12-31' must be from {BOUND_DATES}"),
        "date-far-future": (csv("i.csv", "Date,Type\n2099-01-01,SRBM\n"),
                            f"row 2: Date '2099-01-01' must be from {BOUND_DATES}"),
        "impossible-time": (csv("j.csv", "Date,Type\n2026-01-27T25:61,SRBM\n"),
                            "row 2: Date '2026-01-27T25:61' holds an impossible time of day (25:61)"),
        "json-nan": (js("k.json", '[{"date": "2026-01-27", "missile_class": "SRBM", "count": NaN}]'),
                     "row 1: count 'NaN' is not a number"),
        "json-infinity": (js("l.json", '[{"date": "2026-01-27", "missile_class": "SRBM", "apogee_km": '
                                       'Infinity}]'), "row 1: apogee_km 'Infinity' is not a number"),
        "json-minus-infinity": (js("m.json", '[{"date": "2026-01-27", "missile_class": "SRBM", '
                                             '"latitude": -Infinity, "longitude": 125}]'),
                                "row 1: latitude '-Infinity' is not a number"),
        "json-duplicate-key": (js("n.json", '[{"date": "2026-01-27", "missile_class": "SRBM", "count": 2, '
                                            '"count": 3}]'),
                               "row 1: count '3' is given twice in this record (first as 2)"),
        "json-lone-surrogate": (js("o.json", '[{"date": "2026-01-27", "missile_class": "SRBM", '
                                             '"launch_site": "Won\\ud800san"}]'),
                                "row 1: launch_site 'Won\\ud800san' holds a lone surrogate (not a character)"),
    }


CASES = ["count-2^63-1", "count-2^63", "count-5000-digits-csv", "count-5000-digits-json",
         "count-5000-digits-xlsx", "count-2^63-xlsx", "count-over-bound", "count-zero",
         "distance-over-bound", "apogee-over-bound", "date-before-1950", "date-far-future",
         "impossible-time", "json-nan", "json-infinity", "json-minus-infinity", "json-duplicate-key",
         "json-lone-surrogate"]


@pytest.mark.parametrize("case", CASES)
def test_hostile_value_is_a_rejected_row(capsys, store, case):
    src, message = _value_cases(store.parent)[case]
    before = _snapshot(store)
    code, out, err = _run(capsys, ["--db", str(store), "import", str(src), "--json"])
    assert (code, err) == (2, f"nkbrief: {src.name}: no row could be imported (1 rejected, 0 skipped)\n")
    doc = json.loads(out)
    assert [r["message"] for r in doc["files"][0]["rejections"]] == [message]
    assert _snapshot(store) == before
    # the text report prints the same line, safely
    code, out, _ = _run(capsys, ["--db", str(store), "import", str(src)])
    assert f"  {message}\n" in out


def test_a_value_within_bounds_next_to_a_rejected_one_is_imported(capsys, store):
    src = _colleague_csv(store.parent)
    code, out, err = _run(capsys, ["--db", str(store), "import", str(src)])
    assert code == 0 and err == ""
    assert "row 3: Count '5000' must be from 1 to 1,000" in out


# ------------------------------------------------------------------------ stores
@pytest.fixture
def bad_store(tmp_path, template):
    db = tmp_path / "bad.sqlite3"
    shutil.copy(template, db)
    c = sqlite3.connect(db)
    first = c.execute("SELECT MIN(id) FROM events").fetchone()[0]
    c.execute("UPDATE events SET count = 9223372036854775807 WHERE id = ?", (first,))
    c.commit()
    c.close()
    return db, first


def test_a_store_holding_a_bad_value_still_lists_exports_and_packs(capsys, bad_store, tmp_path):
    db, first = bad_store
    before = _snapshot(db)
    note = (f"nkbrief: note: the store holds values outside the rules: event {first!r} "
            "count '9223372036854775807' must be from 1 to 1,000 (see nkbrief selfcheck)\n")
    code, out, err = _run(capsys, ["--db", str(db), "list"])
    assert (code, err) == (0, note) and out.endswith(" · 339 per-missile records\n")
    assert "9223372036854775807" in out  # shown as stored
    assert "9,223,372" not in out.splitlines()[-1]  # and never added into the total
    code, out, err = _run(capsys, ["--db", str(db), "list", "--json"])
    assert code == 0 and next(r for r in json.loads(out) if r["id"] == first)["count"] == 2**63 - 1
    for name in ("x.csv", "x.json", "x.xlsx"):
        code, out, err = _run(capsys, ["--db", str(db), "export", str(tmp_path / name)])
        assert code == 0 and err == ""
    assert "9223372036854775807" in (tmp_path / "x.json").read_text(encoding="utf-8")  # shown, not lost
    code, out, err = _run(capsys, ["--db", str(db), "pack", "-o", str(tmp_path / "p.xlsx")])
    assert code == 0 and err == ""
    code, out, err = _run(capsys, ["--db", str(db), "timing", "--json", "--seed", "1"])
    assert code == 0
    assert _snapshot(db) == before


def test_text_in_a_number_column_is_listed_as_stored(capsys, bad_store):
    db, _first = bad_store
    c = sqlite3.connect(db)
    last = c.execute("SELECT MAX(id) FROM events").fetchone()[0]
    c.execute("UPDATE events SET distance_km = 'far' WHERE id = ?", (last,))
    c.commit()
    c.close()
    code, out, err = _run(capsys, ["--db", str(db), "list"])
    assert code == 0 and " far km " in out and err.endswith(" and 1 more (see nkbrief selfcheck)\n")


def test_selfcheck_reports_a_stored_bad_value(capsys, bad_store):
    db, first = bad_store
    before = _snapshot(db)
    code, out, err = _run(capsys, ["selfcheck", "--db", str(db)])
    assert code == 1
    assert (f"  - store: event {first!r} has count '9223372036854775807', which must be from 1 to 1,000\n"
            in out)
    assert _snapshot(db) == before


def test_another_programs_database_is_refused_and_left_untouched(capsys, tmp_path):
    other = tmp_path / "other.sqlite"
    c = sqlite3.connect(other)
    c.execute("CREATE TABLE notes(x)")
    c.execute("INSERT INTO notes VALUES ('mine')")
    c.execute("PRAGMA user_version = 7")
    c.commit()
    c.close()
    before = other.read_bytes()
    for argv in (["list"], ["import", str(_colleague_csv(tmp_path))], ["undo-import"]):
        code, _out, err = _run(capsys, ["--db", str(other), *argv])
        assert (code, err) == (1, f"nkbrief: {other} is not an nkbrief store (a database of another program); "
                                  "it was left untouched\n")
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["colleague.csv", "other.sqlite"]


def test_our_store_carries_the_application_id(tmp_path):
    from nkbrief.store import APPLICATION_ID

    db = tmp_path / "s.sqlite3"
    Store.open(db, seed=False).close()
    c = sqlite3.connect(db)
    assert c.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    c.close()


def test_a_locked_store_is_named_as_locked(capsys, store):
    if Path(f"{store}-wal").exists():
        pytest.skip("a WAL store stays readable while another process writes")
    locker = sqlite3.connect(store, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        code, _out, err = _run(capsys, ["--db", str(store), "list"])
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert (code, err) == (1, f"nkbrief: the store {store} is locked by another program (another nkbrief "
                              "still writing?); try again when it has finished\n")


# ------------------------------------------------------------------------ messages
def test_control_characters_in_file_names_are_escaped(capsys, store):
    d = store.parent
    name = d / "bad\nname\x1b[31m.csv"
    name.write_text("x", encoding="utf-8")
    _refused(capsys, store, ["import", str(name)], 2,
             "bad\\nname\\x1b[31m.csv: has a header row but no data rows", [name])
    _refused(capsys, store, ["export", str(d / "a\nb" / "x.csv")], 1,
             f"cannot write {d}/a\\nb/x.csv: the folder {d}/a\\nb does not exist")


def test_timing_seed_out_of_range_is_one_line(capsys, store):
    _refused(capsys, store, ["timing", "--seed", str(10**24)], 1,
             "--seed must be a whole number from 0 to 9,223,372,036,854,775,807")


def test_row_limit_message_is_a_whole_sentence(capsys, store, monkeypatch):
    from nkbrief.importing.io import tabular

    monkeypatch.setattr(tabular, "MAX_ROWS", 5)
    rows = [["Date", "Type"]] + [[f"2026-01-{i:02d}", "SRBM"] for i in range(1, 40)]
    src = raw_xlsx(store.parent / "long.xlsx", sheet_xml(rows))
    _refused(capsys, store, ["import", str(src)], 2,
             "long.xlsx: sheet 'Sheet1' has more than 5 rows; the import limit is 5", [src])


# ------------------------------------------------------------------------ temporary files
def test_private_folder_and_file_modes(tmp_path):
    f = private_tmp.new_file(".xml", "x")
    base = private_tmp.folder()
    assert base == tmp_path / "cache" / "nkbrief" / "tmp"
    assert stat.S_IMODE(os.stat(base).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert not str(base).startswith(tempfile.gettempdir() + os.sep) or str(tmp_path).startswith(
        tempfile.gettempdir())  # (pytest's tmp_path may itself live in /tmp)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftovers_of_a_killed_run_are_removed_at_the_next_start(capsys, store):
    base = private_tmp.folder()
    pid = _dead_pid()
    sheet = base / f"{pid}-0000abcd-openpyxl.xml"
    sheet.write_text("the whole dataset", encoding="utf-8")
    partial = store.parent / ".events.xlsx.1234abcd.part"
    partial.write_bytes(b"half")
    (base / f"{pid}-0000abce.pending").write_text(str(partial), encoding="utf-8")
    innocent = store.parent / "events.xlsx"
    innocent.write_bytes(b"kept")
    mine = private_tmp.new_file(".xml")  # this process is alive: kept
    code, _out, _err = _run(capsys, ["--db", str(store), "calendar"])
    assert code == 0
    assert not sheet.exists() and not partial.exists() and not (base / f"{pid}-0000abce.pending").exists()
    assert innocent.read_bytes() == b"kept" and mine.exists()


def test_openpyxl_sheet_files_go_to_the_private_folder_and_go_away_on_failure(tmp_path, template, monkeypatch):
    from openpyxl.writer import excel

    from nkbrief.exporting.export import ExportError, export_dataset

    db = tmp_path / "s.sqlite3"
    shutil.copy(template, db)
    seen: list[str] = []

    def boom(self):
        from openpyxl.worksheet import _writer

        seen.extend(_writer.ALL_TEMP_FILES)
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(excel.ExcelWriter, "save", boom)
    system_tmp = set(Path(tempfile.gettempdir()).glob("openpyxl.*"))
    st = Store.open(db)
    out = tmp_path / "out.xlsx"
    with pytest.raises(ExportError, match="the disk is full"):
        export_dataset(st, out)
    st.close()
    base = private_tmp.folder()
    assert seen and all(Path(s).parent == base for s in seen)
    assert [p for p in seen if Path(p).exists()] == []
    assert set(Path(tempfile.gettempdir()).glob("openpyxl.*")) == system_tmp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "s.sqlite3"]


# ------------------------------------------------------------------------ a full disk
def _tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True, text=True)
    return r.returncode == 0


@pytest.fixture(params=["100k"])
def small_disk(request, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated on a small tmpfs, which needs root (mount -t tmpfs)")
    disk = tmp_path / "disk"
    if not _tmpfs(disk, request.param):
        pytest.skip("mount -t tmpfs is not allowed here (no CAP_SYS_ADMIN in this container)")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    code = "import sys; from nkbrief.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_full_disk_while_writing_a_pack_is_one_line(small_disk, template, tmp_path):
    db = tmp_path / "s.sqlite3"
    shutil.copy(template, db)
    before = _snapshot(db)
    r = _cli("--db", str(db), "pack", "-o", str(small_disk / "pack.xlsx"),
             env_extra={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert (r.returncode, r.stderr) == (1, f"nkbrief: cannot save the pack {small_disk / 'pack.xlsx'}: the disk "
                                           "is full; nothing was written\n")
    assert list(small_disk.iterdir()) == []
    assert _snapshot(db) == before


@pytest.mark.parametrize("small_disk", ["4m"], indirect=True)
def test_a_full_disk_under_the_store_is_named_and_changes_nothing(small_disk, template, tmp_path):
    db = small_disk / "s.sqlite3"
    shutil.copy(template, db)
    with open(small_disk / "filler", "wb", buffering=0) as f:  # fill the disk
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 4096)
    before = _snapshot(db)
    big = tmp_path / "big.csv"
    big.write_text("Date,Type,Launch site\n" + "".join(f"2025-01-{1 + i % 28:02d},SRBM,Site {i}\n"
                                                     for i in range(3000)), encoding="utf-8")
    r = _cli("--db", str(db), "import", str(big), env_extra={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert (r.returncode, r.stderr) == (1, f"nkbrief: the disk holding the store {db} is full; nothing was "
                                           "written (free some space and try again)\n")
    assert _snapshot(db) == before


def test_a_killed_export_leaves_nothing_after_the_next_start(tmp_path, template):
    """kill -9 in the middle of an .xlsx export (held there on purpose): its hidden partial
    file beside the destination and openpyxl's sheet files in the private folder stay
    behind; the next command removes both."""
    import signal
    import time

    db = tmp_path / "s.sqlite3"
    shutil.copy(template, db)
    out = tmp_path / "out" / "events.xlsx"
    out.parent.mkdir()
    cache = tmp_path / "cache"
    code = ("import sys, time; import nkbrief.exporting.export as ex\n"
            "real = ex._xlsx_cell; n = [0]\n"
            "def slow(*a, **k):\n"
            "    n[0] += 1\n"
            "    if n[0] == 3000: time.sleep(600)\n"
            "    return real(*a, **k)\n"
            "ex._xlsx_cell = slow\n"
            "from nkbrief.cli import main; sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    p = subprocess.Popen([sys.executable, "-c", code, "--db", str(db), "export", str(out)], cwd=REPO, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    private = cache / "nkbrief" / "tmp"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            partial = [x for x in out.parent.iterdir() if x.name.startswith(".events.xlsx.")]
            sheets = list(private.glob("*openpyxl*")) if private.is_dir() else []
            if partial and sheets:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the export never reached its partial file")
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert stat.S_IMODE(os.stat(partial[0]).st_mode) == 0o600  # private while incomplete
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o700
    r = _cli("--db", str(db), "calendar", env_extra={"XDG_CACHE_HOME": str(cache)})
    assert r.returncode == 0 and r.stderr == ""
    assert list(out.parent.iterdir()) == []
    assert list(private.iterdir()) == []
