"""Calendar CSV import/export and single-entry edits: validation, all-or-nothing, audit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nkbrief.jobs.calendar_io import (
    CalendarImportError,
    add_entry,
    calendar_csv_text,
    delete_entry,
    edit_entry,
    export_calendar_csv,
    import_calendar_csv,
    read_calendar_csv,
    undo_import,
)
from nkbrief.cli import main
from nkbrief.store import StoreError

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")

REPO = Path(__file__).resolve().parents[2]
HEADER = "id,date,end_date,category,title,description,sources\n"

GOOD = HEADER + (
    "lx,2026-01-05,,summit,Lee–Xi summit,Beijing,https://example.org/a ; https://example.org/b\n"
    "c9,2026-02-19,2026-02-25,party_congress,9th Party Congress,\"Ninth congress,\nwith a line break\",\n"
    ",2026-03-09,2026-03-19,US–ROK exercise,Freedom Shield 2026,,https://example.org/x;jsessionid=1\n"
)


def write(tmp_path, text: str, name: str = "cal.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def snapshot(store) -> tuple:
    return (store.calendar_frame().to_json(), len(store.batches_frame()), len(store.audit_frame()))


def test_good_file_imports_in_one_audited_batch(empty_store, tmp_path):
    path = write(tmp_path, GOOD)
    res = import_calendar_csv(empty_store, path)
    assert (res.added, res.updated, res.identical) == (3, 0, 0)
    cal = empty_store.calendar_frame().set_index("id")
    assert list(cal.index) == ["lx", "c9", "exercise-2026-03-09-freedom-shield-2026"]
    assert cal.loc["lx", "sources"] == ["https://example.org/a", "https://example.org/b"]
    assert cal.loc["c9", "description"] == "Ninth congress,\nwith a line break"
    assert cal.loc["c9", "end_date"] == "2026-02-25"
    # a label is accepted for the category; a ';' inside a URL does not split it
    ex = cal.loc["exercise-2026-03-09-freedom-shield-2026"]
    assert ex["category"] == "exercise" and ex["sources"] == ["https://example.org/x;jsessionid=1"]
    batch = empty_store.batches_frame().iloc[-1]
    assert (batch["kind"], batch["file_name"], batch["added"]) == ("import", "cal.csv", 3)
    assert len(batch["sha256"]) == 64
    audit = empty_store.audit_frame(batch_id=int(batch["id"]))
    assert sorted(audit["record_id"]) == sorted(cal.index) and set(audit["action"]) == {"insert"}
    assert set(audit["table_name"]) == {"calendar"}


def test_reimport_is_identical_and_changes_are_audited_per_field(empty_store, tmp_path):
    import_calendar_csv(empty_store, write(tmp_path, GOOD))
    res = import_calendar_csv(empty_store, write(tmp_path, GOOD))
    assert (res.added, res.updated, res.identical) == (0, 0, 3)
    changed = GOOD.replace("Lee–Xi summit,Beijing", "Lee–Xi summit,Beijing state visit")
    res = import_calendar_csv(empty_store, write(tmp_path, changed, "cal2.csv"))
    assert (res.added, res.updated, res.identical) == (0, 1, 2)
    assert res.old_values == {"lx": {"description": "Beijing"}}
    audit = empty_store.audit_frame(record_id="lx")
    last = audit.iloc[-1]
    assert (last["action"], last["field"], last["old_value"], last["new_value"]) == (
        "update", "description", "Beijing", "Beijing state visit")
    undo_import(empty_store, res)
    assert empty_store.get_calendar_entry("lx")["description"] == "Beijing"


BAD = HEADER + (
    "ok1,2026-01-05,,summit,Fine,,\n"                                   # row 2
    "bad1,2026-02-30,,summit,Bad date,,\n"                              # row 3
    "bad2,2026-02-19,,parade,Bad category,,\n"                          # row 4
    "bad3,2026-02-19,,summit,,,\n"                                      # row 5
    "bad4,2026-02-19,2026-01-01,party_congress,Ends first,\"two\nlines\",\n"  # rows 6-7
    "ok1,2026-03-01,,summit,Repeat id,,\n"                              # row 8
    "bad5,Feb-26,,summit,Month only,,\n"                                # row 9
    "bad6,2026-03-01,,summit,Too many,,,extra\n"                        # row 10
)


def test_bad_rows_are_all_reported_with_exact_messages_and_nothing_is_written(empty_store, tmp_path):
    import_calendar_csv(empty_store, write(tmp_path, GOOD, "first.csv"))
    before = snapshot(empty_store)
    path = write(tmp_path, BAD)
    with pytest.raises(CalendarImportError) as err:
        import_calendar_csv(empty_store, path)
    assert err.value.problems == [
        "row 3: date '2026-02-30' is not a date",
        "row 4: category 'parade' is not a calendar category (party_congress, plenum, spa_session, "
        "summit, exercise, inauguration, anniversary, un_resolution, nuclear_test, other)",
        "row 5: title is required",
        "row 6: end_date '2026-01-01' is before date (2026-02-19)",
        "row 8: id 'ok1' repeats row 2",
        "row 9: date 'Feb-26' is known only to the month; a calendar entry needs a day (YYYY-MM-DD)",
        "row 10: row has 8 cells but the header has 7",
    ]
    assert str(err.value) == ("cal.csv: row 3: date '2026-02-30' is not a date (and 6 more); "
                              "nothing was imported")
    assert isinstance(err.value, StoreError)
    assert snapshot(empty_store) == before


def test_header_problems(tmp_path):
    entries, rep = read_calendar_csv(write(tmp_path, "id,date,kind,title\nx,2026-01-01,summit,T\n"))
    assert entries == [] and rep.messages() == [
        "row 1: column 'kind' is not a calendar column (id, date, end_date, category, title, description, "
        "sources)",
        "row 1: column 'category' is missing from the header",
    ]
    entries, rep = read_calendar_csv(write(tmp_path, ""))
    assert rep.messages()[0].startswith("row 1: file is empty")


def test_cp1252_file_and_missing_optional_columns(tmp_path):
    text = "Date,Category,Title\n2026-01-05,summit,Café summit\n"
    entries, rep = read_calendar_csv(write(tmp_path, text, encoding="cp1252"))
    assert rep.ok and rep.encoding == "cp1252"
    assert entries[0]["title"] == "Café summit" and entries[0]["end_date"] is None
    assert entries[0]["id"] == "summit-2026-01-05-cafe-summit"


def test_bundled_calendar_round_trips_byte_for_byte(tmp_path):
    src = REPO / "resources" / "calendar.csv"
    entries, rep = read_calendar_csv(src)
    assert rep.ok and len(entries) > 200
    out = export_calendar_csv(pd.DataFrame(entries), tmp_path / "out.csv")
    assert out.read_bytes() == src.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temp file left behind


def test_export_neutralises_formulas_and_import_restores_them(empty_store, tmp_path):
    add_entry(empty_store, {"id": "f1", "date": "2026-01-05", "category": "other",
                            "title": "=HYPERLINK(\"http://x\")", "description": "+1 day",
                            "sources": "@src ; -note"})
    text = calendar_csv_text(empty_store.calendar_frame())
    assert "'=HYPERLINK" in text and ",'+1 day," in text and ",'@src ; -note" in text
    path = write(tmp_path, text)
    entries, rep = read_calendar_csv(path)
    assert rep.ok and entries[0]["title"] == "=HYPERLINK(\"http://x\")"
    assert entries[0]["description"] == "+1 day" and entries[0]["sources"] == ["@src", "-note"]


def test_single_entry_add_edit_delete_are_validated_and_audited(empty_store):
    entry = add_entry(empty_store, {"date": "2026-02-19", "end_date": "2026-02-25",
                                    "category": "party_congress", "title": "9th Party Congress"})
    eid = entry["id"]
    assert eid == "party-congress-2026-02-19-9th-party-congress"
    with pytest.raises(StoreError, match=r"^date '2026-02-30' is not a date$"):
        edit_entry(empty_store, eid, {"date": "2026-02-30"})
    with pytest.raises(StoreError, match=r"^a calendar entry with id .* already exists$"):
        add_entry(empty_store, {"id": eid, "date": "2026-02-19", "category": "summit", "title": "x"})
    with pytest.raises(StoreError, match=r"^end_date '2026-02-01' is before date \(2026-02-19\)$"):
        edit_entry(empty_store, eid, {"end_date": "2026-02-01"})
    old, new = edit_entry(empty_store, eid, {"title": "9th Congress of the WPK", "end_date": ""})
    assert old == {"title": "9th Party Congress", "end_date": "2026-02-25"}
    assert new == {"title": "9th Congress of the WPK", "end_date": None}
    removed = delete_entry(empty_store, eid)
    assert removed["title"] == "9th Congress of the WPK" and empty_store.get_calendar_entry(eid) is None
    actions = list(empty_store.audit_frame(record_id=eid)["action"])
    assert actions == ["insert", "update", "update", "delete"]


def test_cli_calendar_commands(tmp_path, capsys):
    db = str(tmp_path / "c.sqlite3")
    assert main(["init", "--empty", "--db", db]) == 0
    good, bad = write(tmp_path, GOOD), write(tmp_path, BAD, "bad.csv")
    capsys.readouterr()
    assert main(["calendar-import", str(bad), "--db", db]) == 1
    err = capsys.readouterr().err
    assert "  row 3: date '2026-02-30' is not a date\n" in err
    assert err.endswith("nkbrief: bad.csv: 7 problems; nothing was imported\n")
    assert main(["calendar-import", str(good), "--dry-run", "--db", db]) == 0
    assert capsys.readouterr().out == "cal.csv: 3 entries would be imported\n"
    assert main(["calendar", "--db", db]) == 0
    assert capsys.readouterr().out == "0 calendar entries\n"
    assert main(["calendar-import", str(good), "--db", db]) == 0
    assert capsys.readouterr().out.startswith("cal.csv: 3 added, 0 updated, 0 identical (batch ")
    assert main(["calendar-add", "--date", "2026-04-15", "--category", "anniversary",
                 "--title", "Day of the Sun", "--source", "a", "--source", "b", "--db", db]) == 0
    assert capsys.readouterr().out == "added calendar entry 'anniversary-2026-04-15-day-of-the-sun'\n"
    assert main(["calendar-edit", "lx", "--date", "2026-13-01", "--db", db]) == 1
    assert capsys.readouterr().err == "nkbrief: date '2026-13-01' is not a date\n"
    assert main(["calendar-edit", "lx", "--title", "Lee–Xi summit, Beijing", "--db", db]) == 0
    assert capsys.readouterr().out == "changed title of calendar entry 'lx'\n"
    assert main(["calendar-delete", "c9", "--db", db]) == 0
    assert capsys.readouterr().out == "deleted calendar entry 'c9' (2026-02-19, 9th Party Congress)\n"
    assert main(["calendar-delete", "c9", "--db", db]) == 1
    assert capsys.readouterr().err == "nkbrief: no calendar entry with id 'c9'\n"
    out = tmp_path / "export.csv"
    assert main(["calendar-export", str(out), "--db", db]) == 0
    entries, rep = read_calendar_csv(out)
    assert rep.ok and {e["id"] for e in entries} == {
        "lx", "exercise-2026-03-09-freedom-shield-2026", "anniversary-2026-04-15-day-of-the-sun"}
    assert next(e for e in entries if e["id"].startswith("anniv"))["sources"] == ["a", "b"]


def test_generated_ids_never_collide(empty_store, tmp_path):
    text = HEADER + ",2026-02-16,,anniversary,김정일 생일,,\n,2026-02-16,,anniversary,광명성절,,\n"
    entries, rep = read_calendar_csv(write(tmp_path, text))
    assert rep.ok and [e["id"] for e in entries] == [
        "anniversary-2026-02-16-unknown", "anniversary-2026-02-16-unknown-2"]
    a = add_entry(empty_store, {"date": "2026-01-05", "category": "summit", "title": "Summit"})
    b = add_entry(empty_store, {"date": "2026-01-05", "category": "summit", "title": "Summit"})
    assert (a["id"], b["id"]) == ("summit-2026-01-05-summit", "summit-2026-01-05-summit-2")
