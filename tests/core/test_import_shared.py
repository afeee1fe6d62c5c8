"""Every public data file imports into an empty store with the counts SOURCES.md gives,
and every input row is accounted for (accepted into an event, rejected, or skipped)."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from nkbrief.importing import importer
from nkbrief.cli import main

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")

CNS = "north_korea_missile_test_database.csv"
CSIS = "north_korea_provocations_1958_present.csv"
NAGIX = "nagix-nk-missile-tests"


def _import(store, path):
    pf = importer.read_file(path)
    pf.check_accounting()
    res = importer.apply_import(store, pf)
    return pf, res


def test_cns_245_missile_rows_become_events(shared_data, empty_store):
    pf, res = _import(empty_store, shared_data / CNS)
    assert (pf.kind, pf.rows_total, pf.accepted_rows, pf.rejected_rows, len(pf.skipped)) == ("cns", 245, 245, 0, 0)
    assert pf.encoding_label.startswith("cp1252")
    assert res.added == len(pf.incoming) and res.missiles_added == 245
    missiles = empty_store.missiles_frame()
    assert len(missiles) == 245
    # each CNS F1 number 1..245 is behind exactly one missile row
    f1 = sorted(int(re.fullmatch(r"CNS F1 (\d+)", r).group(1)) for r in missiles["source_ref"])
    assert f1 == list(range(1, 246))
    events = empty_store.events_frame()
    assert len(events) == res.added
    assert int(events["count"].sum()) == 245
    assert (events["missiles"] == events["count"]).all()
    # an event is one day, one site, one class
    keys = list(zip(events["date"], events["launch_site"].fillna(""), events["missile_class"]))
    assert len(set(keys)) == len(keys)
    # the Musudan salvo filed under 21-Jun-16 20:56 UTC is the Korean 22 June
    musudan = events[(events["date"] == "2016-06-22") & (events["missile_class"] == "IRBM")]
    assert len(musudan) == 1 and musudan.iloc[0]["time_kst"] == "05:56"
    # month-only dates keep their precision
    raw = (shared_data / CNS).read_bytes().decode("cp1252")
    month_only = sum(1 for r in csv.DictReader(io.StringIO(raw, newline=""))
                     if re.fullmatch(r"[A-Za-z]{3}-\d{2}", r["Date"].strip()))
    assert month_only == 8
    assert int(empty_store._execute("SELECT COUNT(*) FROM missiles m JOIN events e ON e.id = m.event_id "
                                   "WHERE e.date_precision = 'month'").fetchone()[0]) == month_only


def test_csis_246_missile_rows_and_247_skipped(shared_data, empty_store):
    text = (shared_data / CSIS).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    missile_rows = [r for r in rows if r["type"] == "Missile Provocation"]
    assert (len(rows), len(missile_rows)) == (493, 246)

    pf, res = _import(empty_store, shared_data / CSIS)
    assert (pf.kind, pf.rows_total, pf.rejected_rows) == ("csis", 493, 0)
    not_missile = [r for r in pf.skipped if "is not a missile launch" in r[1]]
    missile_but_not_launch = [r for r in pf.skipped if r[1].startswith("a missile row but")]
    assert len(not_missile) == 247
    # two 'Missile Provocation' rows are not launches: a ground engine test, a test in China
    assert sorted(r[1] for r in missile_but_not_launch) == [
        "a missile row but a ground test of a rocket engine, not a launch",
        "a missile row but a test reportedly held in China, not a North Korean launch"]
    assert pf.accepted_rows + len(missile_but_not_launch) == 246
    # every accepted row is behind exactly one event
    behind = sorted(n for inc in pf.incoming for n in inc.rows)
    assert len(behind) == len(set(behind)) == pf.accepted_rows
    assert res.added == len(pf.incoming) == empty_store.event_count()
    assert set(empty_store.events_frame()["date"]) <= {r["date"] for r in missile_rows} | {
        inc.event["date"] for inc in pf.incoming}


def test_nagix_339_records(shared_data, empty_store):
    data = json.loads((shared_data / NAGIX / "test.en.json").read_text(encoding="utf-8"))
    n = sum(len(b["data"]) for b in data["timeBins"])
    assert n == 339
    pf, res = _import(empty_store, shared_data / NAGIX / "test.en.json")
    assert (pf.kind, pf.rows_total, pf.accepted_rows, pf.rejected_rows) == ("nagix", 339, 339, 0)
    missiles = empty_store.missiles_frame()
    assert len(missiles) == 339
    recs = sorted(int(r.rsplit(" ", 1)[1]) for r in missiles["source_ref"])
    assert recs == list(range(1, 340))
    assert int(empty_store.events_frame()["count"].sum()) == 339


@pytest.mark.parametrize("name, what, count", [("facility.en.json", "facilities", 56),
                                                ("missile.en.json", "missile types", 37)])
def test_nagix_lookup_files_are_recognised(shared_data, empty_store, name, what, count):
    pf = importer.read_file(shared_data / NAGIX / name)
    assert pf.is_lookup and not pf.wholly_rejected and pf.rows_total == 0
    assert f"{count} {what}" in pf.notes
    res = importer.apply_import(empty_store, pf)
    assert res.batch_id is None and empty_store.event_count() == 0


def test_cli_imports_every_data_file(shared_data, tmp_path, capsys):
    db = tmp_path / "s.sqlite3"
    assert main(["init", "--empty", "--db", str(db)]) == 0
    capsys.readouterr()
    files = [shared_data / CNS, shared_data / CSIS, *sorted((shared_data / NAGIX).glob("*.json"))]
    assert main(["import", *map(str, files), "--json", "--db", str(db)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["imported"] and not doc["errors"]
    by = {f["name"]: f for f in doc["files"]}
    assert (by[CNS]["rows"], by[CNS]["accepted_rows"], by[CNS]["rejected"]) == (245, 245, 0)
    assert (by[CSIS]["rows"], by[CSIS]["skipped_rows"], by[CSIS]["accepted_rows"]) == (493, 249, 244)
    assert (by["test.en.json"]["rows"], by["test.en.json"]["accepted_rows"]) == (339, 339)
    for f in doc["files"]:
        assert f["accepted_rows"] + f["rejected_rows"] + f["skipped_rows"] == f["rows"]
        assert f["added"] + f["identical"] + f["conflicting"] + f["possible_duplicates"] == f["events"]
    # headless conflicts keep mine, and say so
    assert all(c["resolution"] == "keep_mine" for f in doc["files"] for c in f["conflicts"])
