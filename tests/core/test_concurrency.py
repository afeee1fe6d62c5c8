"""Optimistic concurrency (issue 13): event versions, refused edits, the edit command.

Two real processes edit one event: exactly one wins, the other is told who changed it,
and the audit log holds both attempts.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nkbrief.store import _V1_EVENT_FIELDS, MIGRATIONS, SCHEMA_VERSION, Store, StoreError, VersionConflict
from import_helpers import LAUNCH_ID, launch_event

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "main.py")
EV = LAUNCH_ID


@pytest.fixture
def store_path(tmp_path) -> Path:
    p = tmp_path / "s.sqlite3"
    with Store.open(p, seed=False) as st:
        b = st.new_batch("manual")
        st.insert_event(launch_event(), b)
    return p


def _cli(*args, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, MAIN, *args, "--db", str(db)], capture_output=True, text=True,
                          timeout=120)


def test_new_event_is_version_1_and_each_update_adds_one(store_path):
    with Store.open(store_path) as st:
        assert st.event_version(EV) == 1
        old, v = st.edit_event(EV, {"count": 3}, if_version=1)
        assert (old, v) == ({"count": 2}, 2)
        assert st.event_version(EV) == 2
        assert st.edit_event(EV, {"count": 3}, if_version=2) == ({}, 2)  # nothing changed: same version
        st.update_event(EV, {"count": 4})  # an edit that states no version is not checked
        assert st.event_version(EV) == 3
        assert st.event_version("nope") is None


def test_stale_version_is_refused_and_audited(store_path):
    with Store.open(store_path) as a, Store.open(store_path) as b:
        a.user, b.user = "alice", "bob"
        base = b.event_version(EV)
        a.edit_event(EV, {"count": 3}, if_version=base)
        with pytest.raises(VersionConflict) as ei:
            b.edit_event(EV, {"count": 5, "outcome": "failure"}, if_version=base)
        e = ei.value
        audit = a.audit_frame(EV)
        # alice's change, not bob's refusal logged after it (a second later when the clock ticks)
        at = audit[audit["user"] == "alice"].iloc[-1]["at_utc"]
        assert str(e) == (f"event {EV!r} was changed by alice at {at.replace('T', ' ').rstrip('Z')} UTC "
                          "since you opened it (you started from version 1; it is now version 2)")
        assert (e.yours, e.theirs, e.version, e.user) == ({"count": 5, "outcome": "failure"},
                                                         {"count": 3, "outcome": "unknown"}, 2, "alice")
        ev = b.get_event(EV)
        assert (ev["count"], ev["outcome"], b.event_version(EV)) == (3, "unknown", 2)
        audit = b.audit_frame(EV)
        refused = audit[audit["action"] == "refused"]
        assert list(zip(refused["user"], refused["field"], refused["old_value"], refused["new_value"])) == [
            ("bob", "count", 3, 5), ("bob", "outcome", "unknown", "failure")]


def test_undo_expectation_refuses_to_overwrite_a_later_change(store_path):
    with Store.open(store_path) as a, Store.open(store_path) as b:
        a.user, b.user = "alice", "bob"
        old = a.update_event(EV, {"count": 3})  # alice's edit; her undo would write old back
        b.update_event(EV, {"count": 7})  # bob changes the same field later
        with pytest.raises(VersionConflict) as ei:
            a.update_event(EV, old, expect={"count": 3})
        assert str(ei.value).startswith(f"count of event {EV!r} was changed by bob at ")
        assert str(ei.value).endswith(" since your edit, so it was not written over")
        assert a.get_event(EV)["count"] == 7
        # a change to another field does not block the undo
        b.update_event(EV, {"outcome": "success"})
        a.update_event(EV, {"count": 3})
        assert a.update_event(EV, old, expect={"count": 3}) == {"count": 3}
        assert a.get_event(EV)["count"] == 2 and a.get_event(EV)["outcome"] == "success"


def test_deleted_and_restored_event_does_not_reuse_its_version(store_path):
    with Store.open(store_path) as st:
        st.update_event(EV, {"count": 3})
        rec = st.delete_event(EV)
        st.restore_event(rec)
        assert st.event_version(EV) == 3
        with pytest.raises(VersionConflict):
            st.edit_event(EV, {"count": 1}, if_version=2)


def _v1_store(path: Path) -> None:
    """A store as schema 1 wrote it: one event, one audit row."""
    c = sqlite3.connect(path)
    c.executescript(MIGRATIONS[0])
    c.execute("INSERT INTO batches(kind, created_utc, user) VALUES ('manual', '2026-01-01T00:00:00Z', 'old')")
    cols = list(_V1_EVENT_FIELDS)  # the event columns schema 1 had
    ev = launch_event()
    ev["sources"] = '["a"]'
    c.execute(f"INSERT INTO events({', '.join(cols)}, batch_id) VALUES ({', '.join('?' * len(cols))}, 1)",
              [ev[k] for k in cols])
    c.execute("INSERT INTO audit(at_utc, user, action, table_name, record_id, field, old_value, new_value, "
              "batch_id) VALUES ('2026-01-02T00:00:00Z', 'old', 'update', 'events', ?, 'count', '1', '2', 1)",
              (EV,))
    c.execute("PRAGMA user_version = 1")
    c.commit()
    c.close()


def test_schema_1_store_upgrades_in_place(tmp_path):
    p = tmp_path / "v1.sqlite3"
    _v1_store(p)
    with Store.open(p) as st:
        assert st.schema_version == SCHEMA_VERSION == 3
        assert st.event_version(EV) == 1
        audit = st.audit_frame(EV)
        assert list(zip(audit["user"], audit["field"], audit["old_value"], audit["new_value"])) == [
            ("old", "count", 1, 2)]
        with pytest.raises(VersionConflict) as ei:  # who changed it is read from the old audit row
            st.edit_event(EV, {"count": 4}, if_version=0)
        assert "changed by old at 2026-01-02 00:00:00 UTC" in str(ei.value)
        idx = {r[0] for r in st._execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"audit_record", "audit_batch"} <= idx


def test_failed_upgrade_leaves_the_schema_1_store_as_it_was(tmp_path):
    p = tmp_path / "v1.sqlite3"
    _v1_store(p)
    c = sqlite3.connect(p)
    c.execute("CREATE TABLE audit_v2 (x)")  # makes the upgrade's table rebuild fail half-way
    c.commit()
    c.close()
    with pytest.raises(StoreError, match="cannot upgrade to schema 2 the store "):
        Store.open(p)
    c = sqlite3.connect(p)
    assert c.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "version" not in [r[1] for r in c.execute("PRAGMA table_info(events)")]
    assert c.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 1
    c.close()


# ------------------------------------------------------------------ the edit command
def test_edit_command_prints_new_version_and_conflict_exits_3(store_path):
    r = _cli("edit", EV, "count=3", "distance_km=300-360", "--if-version", "1", db=store_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "2\n", "")
    r = _cli("edit", EV, "count=4", "--if-version", "1", db=store_path)
    assert r.returncode == 3 and r.stdout == ""
    assert r.stderr.startswith(f"nkbrief: event {EV!r} was changed by ") and r.stderr.count("\n") == 1
    assert r.stderr.endswith(" since you opened it (you started from version 1; it is now version 2)\n")
    with Store.open(store_path) as st:
        ev = st.get_event(EV)
        assert (ev["count"], ev["distance_km"], ev["distance_km_max"], st.event_version(EV)) == (3, 300.0, 360.0, 2)


@pytest.mark.parametrize("args, code, message", [
    (["count=abc"], 1, "nkbrief: edit: count 'abc' is not a whole number\n"),
    (["colour=red"], 1, "nkbrief: edit: 'colour' is not an event field ("),
    (["id=x"], 1, "nkbrief: edit: id cannot be changed (it names the event)\n"),
    (["count"], 2, "nkbrief: edit: 'count' is not FIELD=VALUE\n"),
    (["count=1", "count=2"], 1, "nkbrief: edit: count is given twice\n"),
    (["distance_km=90000"], 1, "nkbrief: edit: distance_km '90000' must be from 0 to 20,000 km\n"),
    (["date="], 1, f"nkbrief: event {EV!r}: date None is required\n"),
    (["count=2", "--if-version", "x"], 2, "nkbrief: argument --if-version: invalid int value: 'x'\n"),
    (["count=2", "--if-version", "0"], 2, "nkbrief: --if-version 0 is not a version (versions start at 1)\n"),
])
def test_edit_command_bad_input_is_one_line_and_changes_nothing(store_path, args, code, message):
    before = store_path.read_bytes()
    r = _cli("edit", EV, *args, db=store_path)
    assert r.returncode == code
    assert r.stderr.startswith(message) and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stdout == ""
    assert store_path.read_bytes() == before


def test_edit_command_unknown_event(store_path):
    r = _cli("edit", "nope", "count=1", db=store_path)
    assert (r.returncode, r.stderr) == (1, "nkbrief: no event with id 'nope'\n")


def test_edit_command_derives_utc_time_from_a_new_korean_time(store_path):
    r = _cli("edit", EV, "time_kst=16:10", db=store_path)
    assert r.returncode == 0, r.stderr
    with Store.open(store_path) as st:
        assert st.get_event(EV)["time_utc"] == "2026-01-27T07:10:00Z"


# ------------------------------------------------------------------ two real processes
def test_two_processes_edit_one_event_exactly_one_wins(store_path):
    """Both processes start at version 1 at the same moment."""
    procs = [subprocess.Popen([sys.executable, MAIN, "edit", EV, f"count={n}", "--if-version", "1",
                               "--db", str(store_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in (5, 6)]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(r[0] for r in results)
    assert codes == [0, 3], results
    won = next(r for r in results if r[0] == 0)
    lost = next(r for r in results if r[0] == 3)
    assert won[1:] == ("2\n", "")
    assert " since you opened it (you started from version 1; it is now version 2)\n" in lost[2]
    winner_count = 5 if results[0][0] == 0 else 6
    with Store.open(store_path) as st:
        assert st.get_event(EV)["count"] == winner_count
        audit = st.audit_frame(EV)
        rows = audit[audit["field"] == "count"]
        assert sorted(rows["action"]) == ["refused", "update"]
        assert set(rows["new_value"]) == {5, 6}
        assert rows[rows["action"] == "update"]["new_value"].item() == winner_count


_READ_THEN_WRITE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from nkbrief.store import Store, VersionConflict
    db, ev, value, ready, go = sys.argv[1:]
    with Store.open(db) as st:
        version = st.event_version(ev)           # the version this editor "opened"
        Path(ready).touch()
        while not Path(go).exists():
            time.sleep(0.01)
        try:
            st.edit_event(ev, {"count": int(value)}, if_version=version)
        except VersionConflict as e:
            print(e, file=sys.stderr)
            sys.exit(3)
""")


def test_two_processes_that_both_read_before_either_writes(store_path, tmp_path):
    """Each process reads the version, then both write as soon as both have read: the check
    and the write are one transaction, so the second writer sees the first one's version."""
    go = tmp_path / "go"
    procs, readies = [], []
    for n in (5, 6):
        ready = tmp_path / f"ready{n}"
        readies.append(ready)
        procs.append(subprocess.Popen([sys.executable, "-c", _READ_THEN_WRITE, str(store_path), EV, str(n),
                                       str(ready), str(go)], stderr=subprocess.PIPE, text=True,
                                      env=os.environ | {"PYTHONPATH": str(ROOT)}))
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in readies):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.01)
    go.touch()
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stderr.close()
    assert sorted(r[0] for r in results) == [0, 3], results
    lost = next(r for r in results if r[0] == 3)
    assert "since you opened it (you started from version 1; it is now version 2)" in lost[1]
    with Store.open(store_path) as st:
        audit = st.audit_frame(EV)
        assert sorted(audit[audit["field"] == "count"]["action"]) == ["refused", "update"]
        assert st.event_version(EV) == 2
