"""Store.insert_events (the bulk insert imports and the seed use) and the import's audit trail.

- insert_events stores exactly what insert_event stores, event for event;
- it refuses exactly the events validate_event refuses, with insert_event's message, and
  then writes nothing;
- an import is audited as one batch-level row listing the events it added (plus a row per
  overwritten field), and undo still removes exactly those events and restores the rest.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nkbrief.model import schema
from nkbrief.importing.importer import apply_import, read_file, undo_batch
from nkbrief.importing.merge import ImportError_
from nkbrief.store import Store, StoreError, _canonical_utc, _column_ok, _json_list, _json_lists

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")


def _event(i: int, **kw) -> dict:
    return schema.empty_event() | {
        "id": f"e{i:05d}", "date": f"20{10 + i % 15:02d}-0{1 + i % 9}-1{i % 10}", "time_kst": f"{i % 24:02d}:{i % 60:02d}",
        "missile_class": ["SRBM", "ICBM", "cruise"][i % 3], "count": 1 + i % 3,
        "distance_km": None if i % 4 == 0 else 100.0 + i, "apogee_km": 50 + i % 7,
        "launch_site": "Wonsan", "latitude": 39.1, "longitude": 127.4,
        "leader_attended": [None, True, False][i % 3], "description": f"launch {i}",
        "sources": [f"https://example.invalid/{i}", "KCNA \"quoted\" \\ é"][: 1 + i % 2], "notes": ""} | kw


def _rows(store: Store, table: str, cols: str = "*") -> list[tuple]:
    out = []
    for r in store._execute(f"SELECT {cols} FROM {table} ORDER BY 1, 2").fetchall():
        out.append(tuple(r))
    return out


def _no_times(rows, skip):
    return [tuple(v for i, v in enumerate(r) if i not in skip) for r in rows]


def test_insert_events_stores_what_insert_event_stores(tmp_path):
    evs = [_event(i) for i in range(60)]
    partial = {"id": "p1", "date": "2020-02-02", "missile_class": "SRBM", "sources": ["x"]}  # defaults fill the rest
    missiles = {"e00001": [{"seq": 1, "missile_class": "SRBM"}, {"seq": 2, "distance_km": 300.0}]}
    statements = {"e00002": [{"actor": "Washington", "summary": "condemned", "source": "State"}]}
    a = Store.open(tmp_path / "a.sqlite3", seed=False)
    b = Store.open(tmp_path / "b.sqlite3", seed=False)
    for store in (a, b):
        store.new_batch("manual")
    for ev in evs + [partial]:
        a.insert_event(ev, 1, missiles=missiles.get(ev["id"], ()), statements=statements.get(ev["id"], ()))
    seen = []
    b.on_change(seen.append)
    ids = b.insert_events(evs + [partial], 1, missiles=missiles, statements=statements)
    assert ids == [e["id"] for e in evs] + ["p1"]
    assert seen == ["events", "statements"]  # listeners hear of it after the commit
    assert _no_times(_rows(a, "events"), {23}) == _no_times(_rows(b, "events"), {23})
    assert _rows(a, "missiles") == _rows(b, "missiles")
    assert _rows(a, "statements") == _rows(b, "statements")
    cols = "user, action, table_name, record_id, field, old_value, new_value, batch_id"
    assert _rows(a, "audit", cols) == _rows(b, "audit", cols)
    assert b.get_event("e00007") == a.get_event("e00007")
    c = Store.open(tmp_path / "c.sqlite3", seed=False)
    c.new_batch("manual")
    c.insert_events(evs, 1, audit=False)
    assert _rows(c, "audit") == []
    for s in (a, b, c):
        s.close()


def test_seed_is_the_same_through_insert_events(tmp_path):
    """The bundled dataset seeds through insert_events; the result is what insert_event gives."""
    from nkbrief.store.dataset import load_bundled_events
    from nkbrief.resources import resource_path

    if not resource_path("events.json").exists():
        pytest.skip("no bundled dataset")
    seeded = Store.open(tmp_path / "seeded.sqlite3")
    bundle = load_bundled_events(resource_path("events.json"))
    one = Store.open(tmp_path / "one.sqlite3", seed=False)
    one.new_batch("seed")
    for ev in bundle["events"]:
        one.insert_event(ev, 1, missiles=[m for m in bundle["missiles"] if m["event_id"] == ev["id"]],
                         statements=[s for s in bundle["statements"] if s["event_id"] == ev["id"]], audit=False)
    assert _no_times(_rows(seeded, "events"), {23}) == _no_times(_rows(one, "events"), {23})
    assert _rows(seeded, "missiles") == _rows(one, "missiles")
    assert _rows(seeded, "statements") == _rows(one, "statements")
    seeded.close()
    one.close()


@pytest.mark.parametrize("items", [
    ["a"], [], ["x", "y"], ['q"uote', "back\\slash", "tab\tnew\nline", "\x01", "한국어", "é", "\u2028", "💥"],
])
def test_json_list_is_json_dumps(items):
    assert _json_list(items) == json.dumps(items, ensure_ascii=False)
    assert json.loads(_json_list(items)) == items


@given(st.lists(st.one_of(st.none(), st.lists(st.text(max_size=6), max_size=3)), max_size=8))
def test_json_lists_is_json_dumps(column):
    assert _json_lists(column) == [json.dumps(list(v or []), ensure_ascii=False) for v in column]


# ------------------------------------------------------------------ validation
UTC_BITS = st.sampled_from(list("0123456789-T:Z \n") + ["00", "99", "02-29", "02-30", "1900", "2000", "0000",
                                                        "23:59:59", "24:00:00", "12:60", "12-31", "13-01"])


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(
    st.datetimes(min_value=__import__("datetime").datetime(1, 1, 1)).map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0")),
    st.lists(UTC_BITS, min_size=1, max_size=12).map("".join),
    st.sampled_from(["2024-02-29T10:00:00Z", "2023-02-29T10:00:00Z", "0000-01-01T00:00:00Z",
                     "2024-04-31T00:00:00Z", "2024-04-30T23:59:59Z", "２０２４-01-01T00:00:00Z"])), min_size=1, max_size=6))
def test_canonical_utc_passes_only_valid_times(values):
    """The numpy check of a UTC column (with the date bounds of nkbrief.model.rules) never passes a
    value check_value refuses, and passes every time written as nkbrief writes it."""
    ok = [schema.check_value("iso", "time_utc", v) is None and len(v) == 20 for v in values]
    if _column_ok("time_utc", "iso", values):
        assert all(ok), values
    canonical = [re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", v) and v.isascii() for v in values]
    if all(ok) and all(canonical):
        assert _canonical_utc(values) and _column_ok("time_utc", "iso", values)


BAD_VALUES = {
    "id": ["", None, 5, "x" * (schema.MAX_TEXT_CHARS + 1)],
    "date": ["2024-02-30", "24-01-01", None, "", 20240101, "2024-01-01T00:00"],
    "date_precision": ["week", "Day", 1],
    "time_kst": ["24:00", "7:05", "07:60", 705, "07:05:00"],
    "time_utc": ["2024-01-01 25:00", "yesterday", "2024-13-01T00:00:00Z", 5],
    "missile_class": ["srbm", "", None, "rocket", ["SRBM"]],
    "count": [0, -1, 1.5, True, False, "2", 2.0],
    "distance_km": [-1.0, float("nan"), float("inf"), 50_001.0, "350", True],
    "distance_km_max": [-5, 1e9],
    "apogee_km": [100_000.5, -0.1, float("nan")],
    "latitude": [90.5, -91, float("nan"), "39", None, True],
    "longitude": [180.5, -181.0, None, False],
    "outcome": ["ok", "Success", 1],
    "confirmation": ["yes", None],
    "leader_attended": [1, 0, "yes", 1.0],
    "description": [5, ["x"], "y" * (schema.MAX_TEXT_CHARS + 1)],
    "sources": ["a", [1], ["a", None], ("a",), [["a"]], [b"a"]],
    "notes": [3.0],
    "launch_site": [{"a": 1}],
}
PAIRS = [{"distance_km": 300.0, "distance_km_max": 200.0}, {"apogee_km": 10, "apogee_km_max": 9.5},
         {"distance_km": 300, "distance_km_max": 299.5}, {"latitude": None, "longitude": None, "description": "ok"},
         {"date_precision": "month", "time_kst": "10:00"}, {"latitude": None},
         {"date_precision": "year", "time_kst": "10:00", "time_utc": None}, {"unknown_field": 1}]


def _first_problem(evs: list[dict]) -> str | None:
    for ev in evs:
        rep = schema.validate_event(ev)
        if not rep.ok:
            return f"event {ev.get('id')!r}: {rep}"
    return None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 40), spoil=st.lists(st.tuples(st.integers(0, 39), st.one_of(
    st.sampled_from([(f, v) for f, vs in BAD_VALUES.items() for v in vs]),
    st.sampled_from([("pair", p) for p in PAIRS]))), max_size=3))
def test_insert_events_refuses_what_validate_event_refuses(tmp_path_factory, n, spoil):
    evs = [_event(i) for i in range(n)]
    for i, (f, v) in spoil:
        if i < n:
            if f == "pair":
                evs[i] = evs[i] | v
                if "latitude" in v:
                    evs[i]["latitude"] = None
            else:
                evs[i] = evs[i] | {f: v}
    for i, ev in enumerate(evs):  # keep ids distinct unless the id itself is what is spoiled
        if isinstance(ev["id"], str) and ev["id"] and len(ev["id"]) < 100:
            ev["id"] = f"{ev['id']}-{i}"
    expected = _first_problem(evs)
    as_columns = all(set(ev) == set(schema.EVENT_FIELDS) for ev in evs)
    for how in ("events", "columns") if as_columns else ("events",):
        store = Store.open(tmp_path_factory.mktemp("v") / "s.sqlite3", seed=False)
        try:
            b = store.new_batch("manual")
            before = _rows(store, "events"), _rows(store, "audit")

            def insert():
                if how == "events":
                    return store.insert_events(evs, b)
                return store.insert_event_columns(_columns(evs), b)
            if expected is None:
                assert len(insert()) == n
            else:
                with pytest.raises(StoreError) as e:
                    insert()
                assert str(e.value) == expected
                assert (_rows(store, "events"), _rows(store, "audit")) == before
        finally:
            store.close()


def _columns(evs: list[dict]) -> dict[str, list]:
    return {f: [ev[f] for ev in evs] for f in schema.EVENT_FIELDS}


def test_insert_event_columns_stores_what_insert_events_stores(tmp_path):
    evs = [_event(i) for i in range(70)]
    missiles = {"e00001": [{"seq": 1, "missile_class": "SRBM"}]}
    statements = {"e00002": [{"actor": "Washington", "summary": "condemned", "source": "State"}]}
    for audit in (True, False):
        a = Store.open(tmp_path / f"a{audit}.sqlite3", seed=False)
        b = Store.open(tmp_path / f"b{audit}.sqlite3", seed=False)
        for store in (a, b):
            store.new_batch("manual")
        a.insert_events(evs, 1, missiles=missiles, statements=statements, audit=audit)
        cols = _columns(evs)
        kept = {f: list(c) for f, c in cols.items()}
        assert b.insert_event_columns(cols, 1, missiles=missiles, statements=statements,
                                      audit=audit) == [e["id"] for e in evs]
        assert cols == kept  # the columns are read, not changed
        assert _no_times(_rows(a, "events"), {23}) == _no_times(_rows(b, "events"), {23})
        for table in ("missiles", "statements"):
            assert _rows(a, table) == _rows(b, table)
        cols_sql = "user, action, table_name, record_id, field, old_value, new_value, batch_id"
        assert _rows(a, "audit", cols_sql) == _rows(b, "audit", cols_sql)
        a.close()
        b.close()


def test_insert_event_columns_refuses_a_wrong_shape(empty_store):
    b = empty_store.new_batch("manual")
    cols = _columns([_event(1), _event(2)])
    with pytest.raises(StoreError, match="missing: notes"):
        empty_store.insert_event_columns({f: c for f, c in cols.items() if f != "notes"}, b)
    with pytest.raises(StoreError, match="unknown: colour"):
        empty_store.insert_event_columns(cols | {"colour": ["red", "blue"]}, b)
    with pytest.raises(StoreError, match="one value per event"):
        empty_store.insert_event_columns(cols | {"notes": [""]}, b)
    assert empty_store.insert_event_columns({f: [] for f in cols}, b) == []
    assert empty_store.event_count() == 0


SPOILS = [(f, v) for f, vs in BAD_VALUES.items() for v in vs] + [("pair", p) for p in PAIRS]


@pytest.mark.parametrize("where", [0, 17, 29])
def test_each_bad_value_is_refused_like_validate_event(empty_store, where):
    b = empty_store.new_batch("manual")
    for f, v in SPOILS:
        evs = [_event(i) for i in range(30)]
        if f == "pair":
            evs[where] = evs[where] | v
        else:
            evs[where] = evs[where] | {f: v}
        expected = _first_problem(evs)
        if expected is None:  # not every value here is wrong everywhere (a null confirmation)
            assert len(empty_store.insert_events(evs, b, audit=False)) == 30
            with empty_store.write():
                empty_store._execute("DELETE FROM events")
            continue
        with pytest.raises(StoreError) as e:
            empty_store.insert_events(evs, b)
        assert str(e.value) == expected
    assert empty_store.event_count() == 0
    # NaN first, last, alone: min() and max() do not see it
    for vals in ([float("nan"), 5.0], [5.0, float("nan")], [float("nan")]):
        evs = [_event(i, distance_km=x, distance_km_max=None) for i, x in enumerate(vals)]
        with pytest.raises(StoreError, match="is not a number"):
            empty_store.insert_events(evs, b)


def test_insert_events_refuses_a_taken_id_and_writes_nothing(empty_store):
    b = empty_store.new_batch("manual")
    empty_store.insert_event(_event(3), b)
    with pytest.raises(StoreError, match="event 'e00003' is already in the store"):
        empty_store.insert_events([_event(1), _event(2), _event(3)], b)
    with pytest.raises(StoreError, match="event 'e00002' is given twice"):
        empty_store.insert_events([_event(1), _event(2), _event(2)], b)
    assert [r[0] for r in empty_store._execute("SELECT id FROM events").fetchall()] == ["e00003"]
    with pytest.raises(StoreError, match="missile of event 'e00001'"):
        empty_store.insert_events([_event(1)], b, missiles={"e00001": [{"seq": 1, "distance_km": -4.0}]})
    assert empty_store.event_count() == 1


# ------------------------------------------------------------------ import audit and undo
CSV = ("Date,Time (KST),Type,Number,Distance,Launch site,Source\n"
       "2026-01-27,15:50,SRBM,2,350 km,North of Pyongyang,JCS\n"
       "2026-01-04,07:50,HGV,2,900 km,Pyongyang area,JCS\n"
       "2026-01-05,07:50,HGV,1,,Pyongyang area,JCS\n")


def _csv(tmp_path, text=CSV):
    p = tmp_path / "colleague.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_import_is_audited_as_one_batch_row_and_overwrites_field_by_field(tmp_path, empty_store):
    b0 = empty_store.new_batch("manual")
    mine = schema.empty_event() | {"id": "mine", "date": "2026-01-27", "missile_class": "SRBM",
                                   "launch_site": "North of Pyongyang", "distance_km": 300.0}
    empty_store.insert_event(mine, b0)
    r = apply_import(empty_store, read_file(_csv(tmp_path)), default="take_theirs")
    assert (r.added, r.took_theirs) == (2, 1)
    audit = empty_store.audit_frame(batch_id=r.batch_id)
    per_event = audit[audit["table_name"] == "events"]
    assert set(per_event["action"]) == {"update"}  # the overwritten values, with old and new
    assert ("distance_km", 300.0, 350.0) in list(zip(per_event["field"], per_event["old_value"],
                                                    per_event["new_value"]))
    (summary,) = audit[audit["table_name"] == "batches"].itertuples()
    assert summary.action == "insert" and summary.record_id == str(r.batch_id)
    assert summary.new_value == {"import": "colleague.csv", "events": sorted(summary.new_value["events"]),
                                 "missiles": 0, "statements": 0}
    added = set(summary.new_value["events"])
    assert added == {e for (e,) in empty_store._execute("SELECT id FROM events WHERE batch_id = ?",
                                                       (r.batch_id,)).fetchall()}
    assert len(added) == 2 and "mine" not in added
    assert empty_store.batch_summaries(r.batch_id) == [summary.new_value]
    u = undo_batch(empty_store, r.batch_id)
    assert (u.removed, u.restored) == (2, 1)
    assert empty_store.get_event("mine") == schema.empty_event() | mine
    assert empty_store.event_count() == 1


def test_keep_both_events_are_listed_and_undone(tmp_path, empty_store):
    b0 = empty_store.new_batch("manual")
    empty_store.insert_event(schema.empty_event() | {"id": "mine", "date": "2026-01-27", "missile_class": "SRBM",
                                                     "launch_site": "North of Pyongyang", "distance_km": 300.0}, b0)
    r = apply_import(empty_store, read_file(_csv(tmp_path)), default="keep_both")
    assert (r.added, r.kept_both) == (2, 1)
    (summary,) = empty_store.batch_summaries(r.batch_id)
    assert len(summary["events"]) == 3 and empty_store.event_count() == 4
    undo_batch(empty_store, r.batch_id)
    assert [e for (e,) in empty_store._execute("SELECT id FROM events").fetchall()] == ["mine"]


@pytest.mark.parametrize("later", ["edit", "delete", "restore"])
def test_undo_refuses_after_a_later_change_to_an_imported_event(tmp_path, empty_store, later):
    r = apply_import(empty_store, read_file(_csv(tmp_path)))
    eid = json.loads(empty_store._execute("SELECT new_value FROM audit WHERE table_name = 'batches'")
                     .fetchone()[0])["events"][0]
    if later == "edit":
        empty_store.update_event(eid, {"notes": "checked"})
    else:
        record = empty_store.delete_event(eid)
        if later == "restore":
            empty_store.restore_event(record)
    with pytest.raises(ImportError_, match=f"event '{eid}' was changed after it"):
        undo_batch(empty_store, r.batch_id)


def test_undo_of_an_import_written_with_per_event_audit_rows(tmp_path, empty_store):
    """Stores written before the batch-level row (one 'insert' audit row per event) still undo."""
    b = empty_store.new_batch("import", file_name="old.csv")
    for i in range(3):
        empty_store.insert_event(_event(i), b)  # audit=True: the old per-event rows
    empty_store.finish_batch(b, added=3)
    u = undo_batch(empty_store, b)
    assert u.removed == 3 and empty_store.event_count() == 0


@pytest.mark.slow
def test_undo_of_an_import_larger_than_sqlites_variable_limit(tmp_path, empty_store):
    """More events than SQLite's default limit of '?' in one statement (32,766; builds differ)."""
    n = 33_000
    lines = ["Date,Type,Launch site"] + [f"{1950 + i % 75}-01-{1 + i % 28:02d},SRBM,Site {i}" for i in range(n)]
    pf = read_file(_csv(tmp_path, "\n".join(lines) + "\n"))
    r = apply_import(empty_store, pf)
    assert r.added == n == empty_store.event_count()
    assert len(empty_store.batch_summaries(r.batch_id)[0]["events"]) == n
    u = undo_batch(empty_store, r.batch_id)
    assert u.removed == n and empty_store.event_count() == 0


def test_undo_restores_a_store_byte_for_byte_in_content(tmp_path, empty_store):
    from import_helpers import dataset_dump

    b0 = empty_store.new_batch("manual")
    empty_store.insert_events([_event(i) for i in range(5)], b0)
    before = dataset_dump(empty_store)
    text = "id,Date,Type,Distance\n" + "".join(f"e{i:05d},2026-01-0{1 + i},SRBM,{700 + i} km\n" for i in range(8))
    r = apply_import(empty_store, read_file(_csv(tmp_path, text)), default="take_theirs")
    assert (r.added, r.took_theirs) == (3, 5)
    undo_batch(empty_store, r.batch_id)
    assert dataset_dump(empty_store) == before


@pytest.mark.parametrize("limit", [7, 30, 999, None])
@pytest.mark.parametrize("n", [0, 1, 49, 50, 51, 10_001])
def test_insert_rows_writes_every_row_in_order_within_the_variable_limit(limit, n):
    import sqlite3

    from nkbrief.store import _insert_rows

    c = sqlite3.connect(":memory:", isolation_level=None)
    if limit:
        c.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    c.execute("CREATE TABLE t(seq INTEGER, a TEXT, b REAL, batch INTEGER, at TEXT)")
    rows = [(i, f"r{i}", None if i % 3 else i / 2) for i in range(n)]
    _insert_rows(c, "t", ["seq", "a", "b", "batch", "at"], rows, (7, "2026-01-01T00:00:00Z"))
    assert c.execute("SELECT seq, a, b FROM t ORDER BY rowid").fetchall() == rows
    assert c.execute("SELECT DISTINCT batch, at FROM t").fetchall() == ([(7, "2026-01-01T00:00:00Z")] if n else [])
