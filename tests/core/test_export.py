"""Export -> import into an empty store gives the same dataset, for .csv, .xlsx and .json;
CSV and xlsx exports are formula-safe."""

from __future__ import annotations

import csv
import json
import string

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_helpers import dataset_dump

from nkbrief.model import schema
from nkbrief.cli import main
from nkbrief.exporting.export import ExportError, csv_escape, csv_unescape, export_dataset, xlsx_escape, xlsx_unescape
from nkbrief.importing.importer import apply_import, read_file
from nkbrief.store import Store

NASTY = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(1)", "\tlead tab", "\rlead cr", "\nlead lf", "평양 북방",
         'say "hi"', "a,b", "line1\nline2", "a\r\nb", "'=already quoted", "''+x", "'plain", "_x000D_",
         "_x005F_x0041_", "  spaces  ", " ", "Unknown", "N/A", "-", '["a"]', "1,380 km", "a ; b",
         "http://a.example http://b.example", "＝1+1", " =1+1", "#N/A", "2026-01-27", "TRUE", "0123"]
# text the importer accepts: no control characters other than tab, CR and LF
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x7f",
                       min_codepoint=0x09).filter(lambda c: c in "\t\n\r" or ord(c) >= 0x20)
TEXT = st.one_of(st.sampled_from(NASTY), st.text(_chars, min_size=1, max_size=30),
                 st.tuples(st.sampled_from(NASTY), st.text(_chars, max_size=10)).map("".join))
OPT_TEXT = st.one_of(st.none(), TEXT)
KM = st.floats(min_value=0.0, max_value=10_000.0, allow_nan=False, allow_infinity=False)


@st.composite
def events(draw):
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(st.one_of(st.text(string.ascii_lowercase + "-", min_size=1, max_size=12), TEXT),
                        min_size=n, max_size=n, unique=True))
    out = []
    for ev_id in ids:
        prec = draw(st.sampled_from(schema.DATE_PRECISIONS))
        d = draw(st.dates(min_value=__import__("datetime").date(1984, 1, 1),
                          max_value=__import__("datetime").date(2026, 12, 31))).isoformat()
        t = draw(st.one_of(st.none(), st.times().map(lambda x: x.strftime("%H:%M")))) if prec == "day" else None
        tu = draw(st.one_of(st.none(), st.datetimes(__import__("datetime").datetime(1980, 1, 1), __import__("datetime").datetime(2026, 12, 31)).map(lambda x: x.strftime("%Y-%m-%dT%H:%M:%SZ"))))
        dist, apo = draw(st.one_of(st.none(), KM)), draw(st.one_of(st.none(), KM))
        dmax = draw(st.one_of(st.none(), st.floats(dist, 20_000.0))) if dist is not None else None
        amax = draw(st.one_of(st.none(), st.floats(apo, 10_000.0))) if apo is not None else None
        coords = draw(st.one_of(st.none(), st.tuples(st.floats(-90, 90), st.floats(-180, 180))))
        ev = {
            "id": ev_id, "date": d, "date_precision": prec, "time_kst": t, "time_utc": tu,
            "missile_name": draw(OPT_TEXT), "missile_class": draw(st.sampled_from(schema.MISSILE_CLASSES)),
            "count": draw(st.one_of(st.none(), st.integers(1, 500))),
            "distance_km": dist, "distance_km_max": dmax, "apogee_km": apo, "apogee_km_max": amax,
            "launch_site": draw(OPT_TEXT), "latitude": coords[0] if coords else None,
            "longitude": coords[1] if coords else None, "landing_area": draw(OPT_TEXT),
            "outcome": draw(st.sampled_from(schema.OUTCOMES)),
            "confirmation": draw(st.one_of(st.none(), st.sampled_from(schema.CONFIRMATIONS))),
            "leader_attended": draw(st.one_of(st.none(), st.booleans())),
            "description": draw(st.one_of(st.just(""), TEXT)), "sources": draw(st.lists(TEXT, max_size=3)),
            "notes": draw(st.one_of(st.just(""), TEXT)),
        }
        missiles = [{"seq": i + 1, "missile_name": draw(OPT_TEXT), "missile_class": "SRBM",
                     "distance_km": draw(st.one_of(st.none(), KM)), "outcome": "success",
                     "source_ref": draw(OPT_TEXT), "notes": draw(OPT_TEXT)}
                    for i in range(draw(st.integers(0, 2)))]
        stmts = [{"actor": draw(st.sampled_from(schema.ACTORS)), "summary": draw(TEXT), "source": draw(OPT_TEXT)}
                 for _ in range(draw(st.integers(0, 2)))]
        out.append((ev, missiles, stmts))
    return out


def _store(path, evs):
    s = Store.open(path, seed=False)
    b = s.new_batch("manual")
    for ev, missiles, stmts in evs:
        s.insert_event(ev, b, missiles=missiles, statements=stmts)
    return s


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(evs=events())
def test_round_trip(tmp_path_factory, suffix, evs):
    tmp = tmp_path_factory.mktemp("rt")
    src = _store(tmp / "src.sqlite3", evs)
    out = tmp / f"export{suffix}"
    export_dataset(src, out)
    dst = Store.open(tmp / "dst.sqlite3", seed=False)
    pf = read_file(out)
    assert pf.kind == "nkbrief" and pf.rejections == [], [str(p) for p in pf.rejections]
    res = apply_import(dst, pf)
    assert res.added == len(evs)
    a, b = dataset_dump(src), dataset_dump(dst)
    if suffix == ".csv":  # events only
        a, b = a["events"], b["events"]
    assert b == a
    # a second import of the same file changes nothing
    again = apply_import(dst, read_file(out))
    assert (again.added, again.identical, again.conflicting) == (0, len(evs), 0)
    src.close()
    dst.close()


def test_csv_is_formula_safe(tmp_path):
    s = _store(tmp_path / "s.sqlite3", [(schema.empty_event() | {
        "id": "e1", "date": "2026-01-27", "missile_class": "SRBM", "launch_site": "=cmd|' /C calc'!A0",
        "description": "@SUM(1)", "notes": "-2", "missile_name": "+1", "longitude": -33.5, "latitude": 10.0,
        "sources": ["=1+2"]}, [], [])])
    export_dataset(s, tmp_path / "e.csv")
    with open(tmp_path / "e.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    r = rows[0]
    assert r["launch_site"] == "'=cmd|' /C calc'!A0"
    assert (r["description"], r["notes"], r["missile_name"]) == ("'@SUM(1)", "'-2", "'+1")
    assert r["sources"] == "'=1+2"
    assert r["longitude"] == "-33.5"  # numbers are numbers, not text


def test_xlsx_is_formula_safe(tmp_path):
    s = _store(tmp_path / "s.sqlite3", [(schema.empty_event() | {
        "id": "e1", "date": "2026-01-27", "missile_class": "SRBM", "launch_site": "=cmd|' /C calc'!A0",
        "description": "@SUM(1)", "notes": "plain", "count": 2}, [], [])])
    export_dataset(s, tmp_path / "e.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "e.xlsx")  # not read-only: styles are visible
    ws = wb["Events"]
    head = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(head, ws[2])}
    site = row["launch_site"]
    assert (site.value, site.data_type, site.quotePrefix) == ("=cmd|' /C calc'!A0", "s", True)
    assert (row["description"].data_type, row["description"].quotePrefix) == ("s", True)
    assert (row["notes"].data_type, row["notes"].quotePrefix) == ("s", False)
    assert row["count"].value == 2 and row["date"].is_date
    assert not any(c.data_type == "f" for r in ws.iter_rows() for c in r)


@pytest.mark.parametrize("text", NASTY + ["", "'", "''", "'''=", "=", "_x", "_x00", "_x0041", "a_x0041_b"])
def test_escapes_invert(text):
    assert csv_unescape(csv_escape(text)) == text
    assert xlsx_unescape(xlsx_escape(text)) == text


def test_export_command_and_range(tmp_path, capsys):
    db = tmp_path / "s.sqlite3"
    s = _store(db, [(schema.empty_event() | {"id": f"e{m}", "date": f"2026-0{m}-10", "missile_class": "SRBM"},
                     [{"seq": 1}], []) for m in (1, 2, 3)])
    s.close()
    out = tmp_path / "feb.json"
    assert main(["export", str(out), "--from", "2026-02", "--to", "2026-02", "--db", str(db)]) == 0
    assert capsys.readouterr().out == f"exported 1 event with 1 missile row and 0 statements to {out}\n"
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "nkbrief-dataset" and [e["id"] for e in doc["events"]] == ["e2"]
    assert main(["export", str(tmp_path / "x.txt"), "--db", str(db)]) == 1
    assert capsys.readouterr().err == ("nkbrief: cannot export to x.txt: use a file name ending in .csv, .xlsx "
                                       "or .json\n")
    assert main(["export", str(tmp_path / "nodir" / "x.csv"), "--db", str(db)]) == 1
    assert "the folder" in capsys.readouterr().err


def test_export_is_atomic(tmp_path, monkeypatch):
    s = _store(tmp_path / "s.sqlite3", [(schema.empty_event() | {"id": "e1", "date": "2026-01-27",
                                                                  "missile_class": "SRBM"}, [], [])])
    target = tmp_path / "keep.csv"
    target.write_text("old content", encoding="utf-8")
    import nkbrief.exporting.export as export

    def boom(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(export.os, "fsync", boom)
    with pytest.raises(ExportError) as e:
        export_dataset(s, target)
    assert str(e.value) == f"cannot write {target}: the disk is full; the file was not changed"
    assert target.read_text(encoding="utf-8") == "old content"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".keep")] == []


def test_an_export_from_schema_1_still_imports_exactly(tmp_path):
    """A colleague's export written before the qualifiers and provenance existed is still an
    nkbrief export (exact values), and what it called notes stays notes."""
    ev = schema.empty_event() | {"id": "e1", "date": "2026-01-27", "missile_class": "SRBM", "count": 2,
                                 "distance_km": 350.0, "confirmation": "confirmed", "sources": ["s"],
                                 "notes": "their notes"}
    old_fields = [f for f in schema.EVENT_FIELDS if f not in schema.EVENT_FIELDS_V2]
    path = tmp_path / "old-export.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(old_fields)
        w.writerow(["" if ev[k] is None else (json.dumps(ev[k]) if k == "sources" else ev[k]) for k in old_fields])
    pf = read_file(path)
    assert pf.kind == "nkbrief" and pf.exact and pf.rejections == []
    dst = Store.open(tmp_path / "dst.sqlite3", seed=False)
    try:
        assert apply_import(dst, pf).added == 1
        got = dst.get_event("e1")
        assert (got["count"], got["distance_km"], got["confirmation"], got["notes"]) == (2, 350.0, "confirmed",
                                                                                         "their notes")
        assert got["provenance"] in (None, "") and got["distance_qualifier"] is None
        # it states nothing about provenance or qualifiers: against an event that has them, no conflict there
        with dst.write():
            dst.update_event("e1", {"provenance": "Date basis: compiler", "distance_qualifier": "about"})
        plan = read_file(path)
        res = apply_import(dst, plan)
        assert (res.added, res.identical, res.conflicting) == (0, 1, 0)
        got = dst.get_event("e1")
        assert (got["provenance"], got["distance_qualifier"]) == ("Date basis: compiler", "about")
    finally:
        dst.close()
