"""Dates a colleague really sends: dotted day-first, ambiguous slash dates, month names."""

from __future__ import annotations

import json

import pytest

from nkbrief.model import parse
from nkbrief.cli import main
from nkbrief.importing.importer import DateOrderNeeded, FileRejected, ImportOptions, read_file


def _csv(tmp_path, dates, name="dates.csv"):
    p = tmp_path / name
    p.write_text("Date,Type\n" + "".join(f"{d},SRBM\n" for d in dates), encoding="utf-8")
    return p


def _dates(pf):
    return [inc.event["date"] for inc in pf.incoming]


@pytest.mark.parametrize("text,iso", [
    ("31.12.2023", "2023-12-31"), ("14.3.2026", "2026-03-14"), ("1.2.2026", "2026-02-01"),
    ("14.03.26", "2026-03-14"), ("2026.3.14", "2026-03-14"), ("5. 4. 2025", "2025-04-05"),
])
def test_dotted_dates_are_day_first(text, iso):
    assert parse.parse_date(text) == (iso, "day")


def test_dotted_dates_import(tmp_path):
    pf = read_file(_csv(tmp_path, ["31.12.2023", "14.3.2026", "1.2.2026"]))
    assert _dates(pf) == ["2023-12-31", "2026-03-14", "2026-02-01"] and not pf.rejections
    assert pf.date_order is None  # dotted dates are never ambiguous


def test_an_impossible_dotted_date_is_rejected(tmp_path):
    pf = read_file(_csv(tmp_path, ["31.12.2023", "30.2.2026"]))
    assert [str(p) for p in pf.rejections] == ["row 3: Date '30.2.2026' is not a date"]


@pytest.mark.parametrize("text,iso", [
    ("Sep-84", ("1984-09-01", "month")), ("21-Jun-16", ("2016-06-21", "day")),
    ("March 14, 2026", ("2026-03-14", "day")), ("Mar 14, 2026", ("2026-03-14", "day")),
    ("14 March 2026", ("2026-03-14", "day")), ("September 1984", ("1984-09-01", "month")),
])
def test_month_name_dates_keep_working(text, iso):
    assert parse.parse_date(text) == iso


def test_month_name_dates_import(tmp_path):
    pf = read_file(_csv(tmp_path, ['"March 14, 2026"', "21-Jun-16", "Sep-84"]))
    assert _dates(pf) == ["2026-03-14", "2016-06-21", "1984-09-01"]
    assert [inc.event["date_precision"] for inc in pf.incoming] == ["day", "day", "month"]


def test_ambiguous_slash_date_needs_a_choice(tmp_path):
    p = _csv(tmp_path, ["03/04/2026", "05/06/2026"])
    with pytest.raises(DateOrderNeeded) as e:
        read_file(p)
    assert str(e.value) == ("dates.csv: the date '03/04/2026' (row 2) reads day first as 3 April and month "
                            "first as March 4, and no row settles which; choose the order with --date-order "
                            "dmy or --date-order mdy")
    assert isinstance(e.value, FileRejected) and (e.value.example, e.value.row) == ("03/04/2026", 2)
    assert _dates(read_file(p, ImportOptions(date_order="dmy"))) == ["2026-04-03", "2026-06-05"]
    assert _dates(read_file(p, ImportOptions(date_order="mdy"))) == ["2026-03-04", "2026-05-06"]


def test_another_row_settles_the_order(tmp_path):
    pf = read_file(_csv(tmp_path, ["03/04/2026", "25/12/2025"]))
    assert pf.date_order == "dmy" and _dates(pf) == ["2026-04-03", "2025-12-25"]
    assert any("row 3 ('25/12/2025')" in n for n in pf.notes)
    pf = read_file(_csv(tmp_path, ["03/04/2026", "12/25/2025"], "us.csv"))
    assert pf.date_order == "mdy" and _dates(pf) == ["2026-03-04", "2025-12-25"]
    # the same day and month read the same either way: nothing to settle
    assert _dates(read_file(_csv(tmp_path, ["03/03/2026"], "same.csv"))) == ["2026-03-03"]


def test_contradicting_rows_need_a_choice_and_the_other_rows_are_rejected(tmp_path):
    p = _csv(tmp_path, ["25/12/2025", "12/25/2025"])
    with pytest.raises(DateOrderNeeded, match="contradict each other"):
        read_file(p)
    pf = read_file(p, ImportOptions(date_order="dmy"))
    assert _dates(pf) == ["2025-12-25"]
    assert [str(r) for r in pf.rejections] == ["row 3: Date '12/25/2025' is not a date (read day first)"]


def test_cli_refuses_ambiguous_dates_then_takes_the_option(tmp_path, capsys):
    p = _csv(tmp_path, ["03/04/2026"])
    db = tmp_path / "s.sqlite3"
    assert main(["init", "--empty", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["import", str(p), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "03/04/2026" in err and "--date-order dmy" in err and "no row settles" in err
    assert main(["import", str(p), "--date-order", "dmy", "--json", "--db", str(db)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"][0]["added"] == 1
    assert main(["list", "--json", "--db", str(db)]) == 0
    listed = json.loads(capsys.readouterr().out)
    events = listed["events"] if isinstance(listed, dict) else listed
    assert [e["date"] for e in events] == ["2026-04-03"]


def test_cns_slash_dates_are_month_first_even_on_the_generic_route(tmp_path):
    from nkbrief.importing.io.cns import HEADERS

    p = tmp_path / "cns.csv"
    row = {h: "" for h in HEADERS} | {"F1": "1", "Date": "4/5/2016", "Missile Type": "SRBM",
                                      "Facility Name": "Wonsan"}
    p.write_text(",".join(HEADERS) + "\n" + ",".join(row[h] for h in HEADERS) + "\n", encoding="utf-8")
    pf = read_file(p, ImportOptions(mapping={"Date": "date"}))  # a mapping sends it the generic way
    assert pf.kind == "cns" and _dates(pf) == ["2016-04-05"]
    assert "slash dates read month first, as the CNS database writes them" in pf.notes
