"""The store: migrations, all-or-nothing writes, audit."""

from __future__ import annotations

import hashlib
import sqlite3

import pandas as pd
import pytest

from nkbrief.model import schema
from nkbrief.store import APPLICATION_ID, SCHEMA_VERSION, Store, StoreError

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")


def _ev(i: int, **kw) -> dict:
    ev = schema.empty_event() | {"id": f"ev-{i}", "date": f"2020-01-{i % 28 + 1:02d}",
                                 "missile_class": "SRBM", "sources": ["test"]}
    ev.update(kw)
    return ev


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_file_migrates_from_empty(tmp_path):
    path = tmp_path / "new.sqlite3"
    st = Store.open(path, seed=False)
    assert st.schema_version == SCHEMA_VERSION
    tables = {r[0] for r in st._execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"events", "missiles", "calendar", "statements", "batches", "audit"} <= tables
    assert st._execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert st.event_count() == 0
    st.close()
    # Reopening does not migrate or seed again.
    st = Store.open(path)
    assert st.event_count() == 0
    st.close()


def test_store_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    c = sqlite3.connect(path)
    c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    c.execute(f"PRAGMA application_id = {APPLICATION_ID}")  # a newer nkbrief's store is still ours
    c.close()
    with pytest.raises(StoreError, match="newer nkbrief"):
        Store.open(path)


def test_not_a_store_is_refused(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not an nkbrief store"):
        Store.open(path)


def test_folder_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path)


def test_write_that_fails_halfway_leaves_file_byte_for_byte_unchanged(tmp_path):
    path = tmp_path / "s.sqlite3"
    st = Store.open(path, seed=False)
    b = st.new_batch("manual")
    st.insert_event(_ev(1), b)
    st.close()
    before = _digest(path)

    st = Store.open(path)
    with pytest.raises(RuntimeError):
        with st.write():
            b2 = st.new_batch("import", file_name="x.csv")
            for i in range(2, 400):
                st.insert_event(_ev(i), b2)
            st.update_event("ev-1", {"notes": "changed"})
            raise RuntimeError("power cut")
    # An invalid record halfway through a batch also rolls everything back.
    with pytest.raises(StoreError, match="count"):
        with st.write():
            b3 = st.new_batch("import")
            st.insert_event(_ev(500), b3)
            st.insert_event(_ev(501, count=-3), b3)
    st.close()
    assert _digest(path) == before
    st = Store.open(path)
    assert st.event_count() == 1
    assert st.get_event("ev-1")["notes"] == ""
    assert st._execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    st.close()


def test_edit_appears_in_audit_log(empty_store):
    b = empty_store.new_batch("manual")
    empty_store.insert_event(_ev(1, notes="first"), b)
    old = empty_store.update_event("ev-1", {"notes": "second", "distance_km": 350.0})
    assert old == {"notes": "first", "distance_km": None}
    log = empty_store.audit_frame(record_id="ev-1")
    upd = log[log["action"] == "update"].set_index("field")
    assert upd.loc["notes", "old_value"] == "first"
    assert upd.loc["notes", "new_value"] == "second"
    assert upd.loc["distance_km", "new_value"] == 350.0
    assert set(upd["user"]) == {empty_store.user}
    assert all(upd["at_utc"].str.endswith("Z"))


def test_delete_keeps_everything_in_audit_and_restores(empty_store):
    b = empty_store.new_batch("manual")
    empty_store.insert_event(_ev(1), b, missiles=[{"seq": 1, "missile_class": "SRBM"}],
                             statements=[{"actor": "Seoul", "summary": "condemned", "source": "x"}])
    rec = empty_store.delete_event("ev-1")
    assert empty_store.event_count() == 0
    assert empty_store.missiles_frame().empty  # cascade
    log = empty_store.audit_frame(record_id="ev-1")
    assert log.iloc[-1]["action"] == "delete"
    assert log.iloc[-1]["old_value"]["event"]["id"] == "ev-1"
    empty_store.restore_event(rec)
    assert empty_store.get_event("ev-1")["sources"] == ["test"]
    assert len(empty_store.missiles("ev-1")) == 1
    assert empty_store.statements("ev-1")[0]["actor"] == "Seoul"


def test_invalid_update_is_refused_and_changes_nothing(empty_store):
    b = empty_store.new_batch("manual")
    empty_store.insert_event(_ev(1), b)
    with pytest.raises(StoreError, match="latitude 123.0 is not a latitude"):
        empty_store.update_event("ev-1", {"latitude": 123.0, "longitude": 125.0})
    assert empty_store.get_event("ev-1")["latitude"] is None
    with pytest.raises(StoreError, match="id cannot be changed"):
        empty_store.update_event("ev-1", {"id": "other"})


def test_change_listeners_fire_after_commit_only(empty_store):
    seen = []
    empty_store.on_change(seen.append)
    b = empty_store.new_batch("manual")
    with pytest.raises(RuntimeError):
        with empty_store.write():
            empty_store.insert_event(_ev(1), b)
            raise RuntimeError
    assert seen == []
    empty_store.insert_event(_ev(2), b)
    assert seen == ["events"]


def test_events_frame_filters_and_counts_missiles(empty_store):
    b = empty_store.new_batch("manual")
    empty_store.insert_event(_ev(1, date="2019-05-04"), b,
                             missiles=[{"seq": i, "missile_class": "SRBM"} for i in (1, 2, 3)])
    empty_store.insert_event(_ev(2, date="2022-11-18", missile_class="ICBM"), b)
    df = empty_store.events_frame()
    assert list(df["id"]) == ["ev-1", "ev-2"]
    assert list(df["missiles"]) == [3, 0]
    assert list(empty_store.events_frame(date_from="2020-01-01")["id"]) == ["ev-2"]
    assert list(empty_store.events_frame(classes=["SRBM"])["id"]) == ["ev-1"]


def test_db_path_from_environment(tmp_path, monkeypatch):
    from nkbrief.store import default_db_path

    monkeypatch.setenv("NKBRIEF_DB", str(tmp_path / "env.sqlite3"))
    assert default_db_path() == tmp_path / "env.sqlite3"
    monkeypatch.delenv("NKBRIEF_DB")
    assert default_db_path().name == "nkbrief.sqlite3"


def test_unknown_leader_attendance_stays_unknown_next_to_known_values(empty_store):
    b = empty_store.new_batch("manual")
    for i, v in enumerate([None, False, True, None]):
        empty_store.insert_event(_ev(i, leader_attended=v), b)
    df = empty_store.events_frame().set_index("id")
    got = [None if pd.isna(x) else bool(x) for x in df.loc[[f"ev-{i}" for i in range(4)], "leader_attended"]]
    assert got == [None, False, True, None]
