"""Merge with the store (new / identical / conflicting), resolutions, batches and undo."""

from __future__ import annotations

import json

import pytest
from import_helpers import dataset_dump

from nkbrief.importing import importer
from nkbrief.model import schema
from nkbrief.cli import main
from nkbrief.importing.importer import apply_import, plan_merge, read_file, undo_batch

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")

CSV = ("Date,Time (KST),Type,Number,Distance,Launch site,Source\n"
       "2026-01-27,15:50,SRBM,2,350 km,North of Pyongyang,JCS\n"
       "2026-01-04,07:50,HGV,2,900 km,Pyongyang area,JCS\n")


def _file(tmp_path, text=CSV, name="colleague.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _mine(store):
    b = store.new_batch("manual")
    ev = schema.empty_event() | {"id": "seed-0127", "date": "2026-01-27", "time_kst": "15:50",
                                 "time_utc": "2026-01-27T06:50:00Z", "missile_class": "SRBM", "count": 2,
                                 "distance_km": 300.0, "distance_km_max": 360.0,
                                 "launch_site": "North of Pyongyang", "sources": ["JCS"],
                                 "notes": "my note"}
    store.insert_event(ev, b, missiles=[{"seq": 1}, {"seq": 2}])
    return ev


def test_new_then_identical(tmp_path, empty_store):
    pf = read_file(_file(tmp_path))
    assert plan_merge(empty_store, pf).counts() == {"new": 2, "identical": 0, "conflicting": 0, "possible": 0}
    r1 = apply_import(empty_store, pf)
    assert (r1.added, r1.identical) == (2, 0)
    r2 = apply_import(empty_store, read_file(_file(tmp_path)))
    assert (r2.added, r2.identical, r2.conflicting) == (0, 2, 0)
    b = empty_store.batches_frame().set_index("id")
    assert b.loc[r1.batch_id, "kind"] == "import" and b.loc[r1.batch_id, "added"] == 2
    assert b.loc[r2.batch_id, "identical"] == 2
    details = json.loads(b.loc[r1.batch_id, "details"])
    assert details["encoding"] == "UTF-8" and details["rows"] == 2 and details["mapping"]["Date"] == "date"
    assert b.loc[r1.batch_id, "sha256"] == pf.sha256 and b.loc[r1.batch_id, "file_name"] == "colleague.csv"


def test_conflict_matched_by_date_site_class_field_by_field(tmp_path, empty_store):
    mine = _mine(empty_store)
    pf = read_file(_file(tmp_path))
    plan = plan_merge(empty_store, pf)
    (c,) = plan.conflicts()
    assert c.existing_id == "seed-0127"
    # only what the file states is compared; my notes and missiles are not "theirs"
    assert c.diffs == {"distance_km": (300.0, 350.0)}
    # taking theirs takes a value with its upper end, so the event stays valid
    assert c.changes == {"distance_km": 350.0, "distance_km_max": None}
    before = dataset_dump(empty_store)
    r = apply_import(empty_store, pf)  # headless default: keep mine
    assert (r.added, r.conflicting, r.kept_mine) == (1, 1, 1)
    assert empty_store.get_event("seed-0127") == mine
    undo_batch(empty_store, r.batch_id)
    assert dataset_dump(empty_store) == before


def test_take_theirs_then_undo_restores_mine(tmp_path, empty_store):
    mine = _mine(empty_store)
    before = dataset_dump(empty_store)
    pf = read_file(_file(tmp_path))
    r = apply_import(empty_store, pf, default="take_theirs")
    assert (r.added, r.took_theirs) == (1, 1)
    ev = empty_store.get_event("seed-0127")
    assert (ev["distance_km"], ev["distance_km_max"], ev["notes"]) == (350.0, None, "my note")
    audit = empty_store._execute("SELECT field, old_value, new_value FROM audit WHERE record_id = ? "
                                "AND batch_id = ? ORDER BY field", ("seed-0127", r.batch_id)).fetchall()
    assert [tuple(a) for a in audit] == [("distance_km", "300.0", "350.0"), ("distance_km_max", "360.0", None)]
    u = undo_batch(empty_store, r.batch_id)
    assert (u.removed, u.restored) == (1, 1)
    assert empty_store.get_event("seed-0127") == mine
    assert dataset_dump(empty_store) == before
    with pytest.raises(importer.ImportError_) as e:
        undo_batch(empty_store, r.batch_id)
    assert str(e.value).startswith(f"import {r.batch_id} (colleague.csv) was already undone at ")


def test_keep_both_adds_a_second_event(tmp_path, empty_store):
    _mine(empty_store)
    pf = read_file(_file(tmp_path))
    plan = plan_merge(empty_store, pf)
    idx = plan.conflicts()[0].index
    r = apply_import(empty_store, pf, resolutions={idx: "keep_both"})
    assert (r.added, r.kept_both) == (1, 1)
    ids = set(empty_store.events_frame()["id"])
    assert ids == {"seed-0127", "2026-01-27-srbm-north-of-pyongyang", "2026-01-04-hgv-pyongyang-area"}
    undo_batch(empty_store, r.batch_id)
    assert set(empty_store.events_frame()["id"]) == {"seed-0127"}


def test_undo_refuses_when_a_later_change_stands(tmp_path, empty_store):
    r = apply_import(empty_store, read_file(_file(tmp_path)))
    empty_store.update_event("2026-01-04-hgv-pyongyang-area", {"notes": "edited later"})
    with pytest.raises(importer.ImportError_) as e:
        undo_batch(empty_store, r.batch_id)
    assert "event '2026-01-04-hgv-pyongyang-area' was changed after it" in str(e.value)
    assert empty_store.event_count() == 2


def test_undo_refuses_non_imports(empty_store):
    b = empty_store.new_batch("manual")
    with pytest.raises(importer.ImportError_) as e:
        undo_batch(empty_store, b)
    assert str(e.value) == f"batch {b} is not an import (it is the manual batch)"
    with pytest.raises(importer.ImportError_) as e:
        undo_batch(empty_store, 999)
    assert str(e.value) == "there is no import batch 999"


def test_apply_is_all_or_nothing(tmp_path, empty_store, monkeypatch):
    pf = read_file(_file(tmp_path))
    # the file byte for byte; on a server, every table's rows (the audit included)
    raw = empty_store.path.read_bytes() if empty_store.engine == "sqlite" else _all_rows(empty_store)
    def failing(*a, **k):  # after every event was written, before the batch is finished
        assert empty_store._execute("SELECT COUNT(*) FROM events").fetchone()[0] == 2
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(empty_store, "finish_batch", failing)
    with pytest.raises(RuntimeError):
        apply_import(empty_store, pf)
    assert empty_store.event_count() == 0 and len(empty_store.batches_frame()) == 0
    assert (empty_store.path.read_bytes() if empty_store.engine == "sqlite" else _all_rows(empty_store)) == raw


def _all_rows(store) -> dict:
    return {t: store._execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("batches", "events", "missiles", "statements", "calendar", "audit")}


# ------------------------------------------------------------------------ CLI
def _cli(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_dry_run_json_and_exit_codes(tmp_path, capsys):
    db = tmp_path / "s.sqlite3"
    main(["init", "--empty", "--db", str(db)])
    capsys.readouterr()
    good = _file(tmp_path, CSV + "31-Feb-26,,SRBM,1,,,\n")
    raw = db.read_bytes()
    code, out, err = _cli(capsys, "import", str(good), "--dry-run", "--json", "--db", str(db))
    assert code == 0 and db.read_bytes() == raw
    doc = json.loads(out)
    f = doc["files"][0]
    assert (doc["dry_run"], doc["imported"]) == (True, False)
    assert (f["added"], f["identical"], f["conflicting"], f["rejected"]) == (2, 0, 0, 1)
    assert f["rejections"] == [{"row": 4, "column": "Date", "value": "31-Feb-26", "reason": "is not a date",
                                "message": "row 4: Date '31-Feb-26' is not a date"}]
    code, out, err = _cli(capsys, "import", str(good), "--db", str(db))
    assert code == 0 and "row 4: Date '31-Feb-26' is not a date" in out
    assert "imported as batch 1 (undo with: nkbrief undo-import 1)" in out
    # a file with no usable row: exit 2, store untouched
    raw = db.read_bytes()
    bad = _file(tmp_path, "Date,Type\n31-Feb-26,SRBM\n", "bad.csv")
    code, out, err = _cli(capsys, "import", str(bad), "--db", str(db))
    assert code == 2 and db.read_bytes() == raw
    assert err == "nkbrief: bad.csv: no row could be imported (1 rejected, 0 skipped)\n"
    # one bad file among good ones: nothing is written
    code, out, err = _cli(capsys, "import", str(good), str(bad), "--on-conflict", "take-theirs", "--db", str(db))
    assert code == 2 and db.read_bytes() == raw
    assert err.endswith("nkbrief: nothing was imported (every file must be usable)\n")
    code, out, err = _cli(capsys, "undo-import", "1", "--db", str(db))
    assert code == 0 and out == "undid import 1 (colleague.csv): removed 2 events, restored 0\n"


def test_cli_map_errors(tmp_path, capsys):
    db = tmp_path / "s.sqlite3"
    main(["init", "--empty", "--db", str(db)])
    p = _file(tmp_path)
    capsys.readouterr()
    code, out, err = _cli(capsys, "import", str(p), "--map", "Date=when", "--db", str(db))
    assert code == 2 and err.startswith("nkbrief: --map: 'when' is not a field (use one of: id, date,")
    code, out, err = _cli(capsys, "import", str(p), "--map", "Nope=date", "--db", str(db))
    assert code == 2 and err.startswith("nkbrief: --map: no file has a column 'Nope' (columns: 'Date',")


def test_colleague_notes_and_sources_are_added_not_replaced(tmp_path, empty_store):
    _mine(empty_store)
    text = ("Date,Time (KST),Type,Number,Distance,Launch site,Source,Notes\n"
            "2026-01-27,15:50,SRBM,2,,North of Pyongyang,JCS; Yonhap,seen from Japan\n")
    pf = read_file(_file(tmp_path, text))
    (c,) = plan_merge(empty_store, pf).conflicts()
    assert c.diffs == {"sources": (["JCS"], ["JCS", "Yonhap"]), "notes": ("my note", "seen from Japan")}
    assert c.changes == {"sources": ["JCS", "Yonhap"], "notes": "my note\nseen from Japan"}
    apply_import(empty_store, pf, default="take_theirs")
    ev = empty_store.get_event("seed-0127")
    assert (ev["sources"], ev["notes"], ev["distance_km"]) == (["JCS", "Yonhap"], "my note\nseen from Japan", 300.0)
    again = apply_import(empty_store, read_file(_file(tmp_path, text)))
    assert (again.identical, again.conflicting) == (1, 0)


def test_duplicate_ids_in_one_file_reject_the_later_row(tmp_path):
    p = tmp_path / "ids.json"
    p.write_text(json.dumps([{"id": "a", "date": "2026-01-27"}, {"id": "a", "date": "2026-01-28"}]),
                 encoding="utf-8")
    pf = read_file(p)
    assert [str(x) for x in pf.rejections] == ["row 2: id 'a' is already used by row 1 of this file"]
    assert [i.event["date"] for i in pf.incoming] == ["2026-01-27"]
    pf.check_accounting()
