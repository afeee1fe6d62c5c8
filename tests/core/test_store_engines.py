"""The agreed Store interface on both engines (issue 18): target, engine, where,
read_only_reason, data_version, all-or-nothing writes, and the jobs the window's workers run
on their own connection (opened through ``store.target``)."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from nkbrief.jobs import imports
from nkbrief.model import schema
from nkbrief.store import Store, StoreError, frame_records

#: These tests run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")

CSV = ("Date,Time (KST),Type,Number,Distance,Launch site,Source\n"
       "2026-01-27,15:50,SRBM,2,350 km,North of Pyongyang,JCS\n"
       "2026-01-04,07:50,HGV,2,900 km,Pyongyang area,JCS\n")


def _ev(i: int, **kw) -> dict:
    return schema.empty_event() | {"id": f"ev-{i}", "date": f"2020-01-{i % 28 + 1:02d}",
                                   "missile_class": "SRBM", "sources": ["test"]} | kw


def test_target_reopens_the_same_store(store_engine, store_target):
    with Store.open(store_target()) as st:
        assert st.engine == store_engine and st.read_only_reason is None
        st.insert_event(_ev(1), st.new_batch("manual"))
        target = st.target
        assert "password" not in target and st.where
    with Store.open(target) as again:
        assert again.get_event("ev-1")["missile_class"] == "SRBM" and again.engine == store_engine


def test_seeded_store_reads_alike_on_both_engines(seeded_store, _seeded_template):
    """The same bundled dataset gives the same frames, records and named reads on either engine."""
    with Store.open(_seeded_template) as ref:
        pd.testing.assert_frame_equal(seeded_store.events_frame(), ref.events_frame())
        pd.testing.assert_frame_equal(seeded_store.calendar_frame(), ref.calendar_frame())
        pd.testing.assert_frame_equal(seeded_store.missiles_frame(), ref.missiles_frame())
        some = ref.events_frame()["id"].tolist()[::40]
        pd.testing.assert_frame_equal(seeded_store.missiles_frame(some), ref.missiles_frame(some))
        mine = [r for chunk in seeded_store.iter_event_records(chunk=50) for r in chunk]
        assert mine == frame_records(ref.events_frame())
        fields = ["id", "date", "count", "sources"]
        def pack(st):  # (fields..., unsourced as a truth value, batch kind, file name); not the times
            return [(*r[:4], bool(r[4]), r[5], r[6]) for r in st.pack_rows(fields)]
        assert pack(seeded_store) == pack(ref)
        ordered = ["id", "time_kst"]  # NULL times first, ids in byte order, as SQLite sorts them
        assert [tuple(r) for r in seeded_store.event_values(ordered, ordered=True)] == \
            [tuple(r) for r in ref.event_values(ordered, ordered=True)]
        assert seeded_store.last_observed_day() == ref.last_observed_day()
        assert seeded_store.missile_counts() == ref.missile_counts()
        assert seeded_store.values_outside_rules() == ref.values_outside_rules() == []


def test_a_failed_write_leaves_nothing(empty_store):
    with pytest.raises(RuntimeError):
        with empty_store.write():
            b = empty_store.new_batch("manual")
            empty_store.insert_events([_ev(i) for i in range(30)], b)
            raise RuntimeError("stop")
    assert empty_store.event_count() == 0 and len(empty_store.batches_frame()) == 0
    assert len(empty_store.audit_frame()) == 0


def test_a_duplicate_id_refuses_the_whole_batch(empty_store):
    b = empty_store.new_batch("manual")
    empty_store.insert_event(_ev(3), b)
    with pytest.raises(StoreError, match="event 'ev-3' is already in the store"):
        empty_store.insert_events([_ev(i) for i in range(10)], b)
    assert empty_store.event_count() == 1


def test_data_version_hears_another_connection(store_target):
    target = store_target()
    with Store.open(target) as window, Store.open(target) as worker:
        v0 = window.data_version()
        worker.insert_event(_ev(1), worker.new_batch("manual"))
        deadline = time.monotonic() + 10
        while window.data_version() == v0:
            assert time.monotonic() < deadline, "the other connection's commit was never seen"
            time.sleep(0.02)


def test_the_windows_jobs_run_on_their_own_connection_through_target(empty_store, tmp_path):
    f = tmp_path / "colleague.csv"
    f.write_text(CSV, encoding="utf-8")
    parsed, plan = imports.check_file(empty_store.target, f)
    result = imports.apply_file(empty_store.target, parsed)
    assert result.added == 2 and empty_store.event_count() == 2
    out = imports.export_events(empty_store.target, tmp_path / "out.csv")
    assert out
    imports.undo_import(empty_store.target, result.batch_id)
    assert empty_store.event_count() == 0


def test_a_read_only_file_store_says_why_and_refuses_writes(tmp_path, monkeypatch, store_engine):
    if store_engine != "sqlite":
        pytest.skip("a server's read-only logins are tested in test_store_pg.py")
    path = tmp_path / "s.sqlite3"
    Store.open(path, seed=False).close()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if (mode == os.W_OK and str(p) == str(path))
                        else real(p, mode, **kw))  # root may write anything: as an analyst would see it
    with Store.open(path) as st:
        assert st.read_only_reason == (f"the store file {path} is read-only (no write permission), "
                                       "so it can be read but not changed")
        with pytest.raises(StoreError, match="can be read but not changed; nothing was written"):
            st.new_batch("manual")
        assert st.event_count() == 0
