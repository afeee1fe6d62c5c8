"""Formats, encodings, headers and values a colleague's file may come in."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_helpers import write_xlsx

from nkbrief.importing import importer
from nkbrief.importing.importer import ImportOptions, read_file

HEADER_EN = "Date,Time (KST),Missile,Type,Number,Distance,Apogee,Launch site,Result,Source\n"
ROW_EN = "2026-01-27,15:50,Hwasong-11,SRBM,2,~350km,80 km,North of Pyongyang,success,https://example.org/a\n"


def _one(pf):
    assert pf.rejections == [], [str(p) for p in pf.rejections]
    assert len(pf.incoming) == 1
    return pf.incoming[0].event


# ------------------------------------------------------------------------ encodings
@pytest.mark.parametrize("encoding, label", [
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("utf-16", "UTF-16 with BOM"),
    ("utf-16-le", "UTF-16 LE (no BOM)"),
    ("cp949", "CP949 / EUC-KR (Korean Windows)"),
    ("euc-kr", "CP949 / EUC-KR (Korean Windows)"),
])
def test_korean_file_in_each_encoding(tmp_path, encoding, label):
    text = ("발사일자,시각,미사일,종류,발수,비행거리,고도,발사장소,결과,출처,비고\n"
            "2026년 1월 27일,오후 3시 50분,화성-11,단거리탄도미사일,2발,약 350km,80km,평양 북방,성공,합참,일본 발표 2발\n")
    p = tmp_path / "korean.csv"
    p.write_bytes(text.encode(encoding))
    pf = read_file(p)
    assert pf.encoding_label == label
    ev = _one(pf)
    assert (ev["date"], ev["time_kst"], ev["time_utc"]) == ("2026-01-27", "15:50", "2026-01-27T06:50:00Z")
    assert (ev["missile_name"], ev["missile_class"], ev["count"]) == ("화성-11", "SRBM", 2)
    assert (ev["distance_km"], ev["apogee_km"], ev["launch_site"]) == (350.0, 80.0, "평양 북방")
    assert (ev["outcome"], ev["sources"], ev["notes"]) == ("success", ["합참"], "일본 발표 2발")


def test_cp1252_file_with_nbsp_and_degree(tmp_path):
    p = tmp_path / "west.csv"
    p.write_bytes(("Date,Type,Launch site,Description\n"
                   "9-Apr-84,SRBM,Tonghae\xa0,Bearing 45\xb0 east\n").encode("cp1252"))
    pf = read_file(p)
    assert pf.encoding_label == "cp1252 (Windows Western)"
    ev = _one(pf)
    assert (ev["date"], ev["launch_site"], ev["description"]) == ("1984-04-09", "Tonghae", "Bearing 45° east")


@pytest.mark.parametrize("delim, label", [(",", "comma"), ("\t", "tab"), (";", "semicolon")])
def test_delimiter_detected(tmp_path, delim, label):
    p = tmp_path / "d.txt"
    p.write_text((HEADER_EN + ROW_EN).replace(",", delim), encoding="utf-8")
    pf = read_file(p)
    assert pf.delimiter == delim and pf.format_label == f"{label}-separated text"
    assert _one(pf)["distance_km"] == 350.0


# ------------------------------------------------------------------------ values
@pytest.mark.parametrize("cell, expected", [
    ("2026-01-27", ("2026-01-27", "day")), ("27-Jan-26", ("2026-01-27", "day")),
    ("1/27/2026", ("2026-01-27", "day")), ("2026.1.27", ("2026-01-27", "day")),
    ("2026년 1월 27일", ("2026-01-27", "day")), ("Sep-84", ("1984-09-01", "month")),
    ("2026-01", ("2026-01-01", "month")), ("46049", ("2026-01-27", "day")),
])
def test_date_forms(tmp_path, cell, expected):
    p = tmp_path / "dates.csv"
    p.write_text(f"Date,Type\n\"{cell}\",SRBM\n", encoding="utf-8")
    ev = _one(read_file(p))
    assert (ev["date"], ev["date_precision"]) == expected


@pytest.mark.parametrize("cell, lo, hi", [
    ("350 km", 350.0, None), ("~350km", 350.0, None), ("1,380 km", 1380.0, None),
    ("220 miles", 354.1, None), ("between 110 and 670 km", 110.0, 670.0), ("Unknown", None, None),
    ("N/A", None, None), ("-", None, None), ("", None, None),
])
def test_distance_forms(tmp_path, cell, lo, hi):
    p = tmp_path / "km.csv"
    p.write_text(f"Date,Distance\n2026-01-27,\"{cell}\"\n", encoding="utf-8")
    ev = _one(read_file(p))
    assert (ev["distance_km"], ev["distance_km_max"]) == (lo, hi)


def test_miles_header_converts_bare_numbers(tmp_path):
    p = tmp_path / "mi.csv"
    p.write_text("Date,Range (miles)\n2026-03-14,220\n", encoding="utf-8")
    assert _one(read_file(p))["distance_km"] == 354.1


def test_utc_clock_column_reads_date_as_utc_and_keeps_both(tmp_path):
    p = tmp_path / "utc.csv"
    p.write_text("Date,Launch Time (UTC),Type\n21-Jun-16,8:56:00 PM,IRBM\n", encoding="utf-8")
    pf = read_file(p)
    ev = _one(pf)
    assert (ev["date"], ev["time_kst"], ev["time_utc"]) == ("2016-06-22", "05:56", "2016-06-21T20:56:00Z")
    assert "Date 2016-06-21 was read as the UTC date" in ev["notes"]


def test_kst_and_utc_columns_must_agree(tmp_path):
    p = tmp_path / "both.csv"
    p.write_text("Date,Time (KST),Time (UTC)\n2026-01-27,15:50,06:50\n2026-01-27,15:50,07:50\n",
                 encoding="utf-8")
    pf = read_file(p)
    assert [str(x) for x in pf.rejections] == [
        "row 3: Time (UTC) '07:50' does not match the KST time 15:50 (06:50 UTC)"]
    assert pf.incoming[0].event["time_utc"] == "2026-01-27T06:50:00Z"


def test_unmapped_columns_kept_in_notes(tmp_path):
    p = tmp_path / "extra.csv"
    p.write_text("Date,Type,Analyst,Confidence,Notes\n2026-01-27,SRBM,Kim,high,see cable\n", encoding="utf-8")
    pf = read_file(p)
    ev = _one(pf)
    assert ev["notes"] == "see cable\nColleague column 'Analyst': Kim\nColleague column 'Confidence': high"
    assert [c.label for c in pf.columns] == ["Date (Korean)", "Missile class", "(kept in notes)",
                                             "(kept in notes)", "Notes"]


def test_map_option_overrides_and_ignore(tmp_path):
    p = tmp_path / "odd.csv"
    p.write_text("Day of launch,What,Analyst\n2026-01-27,SRBM,Kim\n", encoding="utf-8")
    with pytest.raises(importer.FileRejected) as e:
        read_file(p)
    assert str(e.value) == ("odd.csv: no column is recognised as the launch date (columns: 'Day of launch', "
                            "'What', 'Analyst'); map one, e.g. --map \"Launch day=date\"")
    pf = read_file(p, ImportOptions(mapping={"Day of launch": "date", "What": "missile_class",
                                             "Analyst": "ignore"}))
    ev = _one(pf)
    assert (ev["date"], ev["missile_class"], ev["notes"]) == ("2026-01-27", "SRBM", "")


def test_rejection_names_row_column_value_reason(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("Date,Type,Number,Latitude,Longitude\n"
                 "2026-01-27,SRBM,2,39.0,125.7\n"
                 "31-Feb-26,SRBM,1,39.0,125.7\n"
                 "2026-01-28,SRBM,-3,39.0,125.7\n"
                 "2026-01-29,SRBM,1,95.0,125.7\n", encoding="utf-8")
    pf = read_file(p)
    assert [str(x) for x in pf.rejections] == [
        "row 3: Date '31-Feb-26' is not a date",
        "row 4: Number '-3' must not be negative",
        "row 5: Latitude '95.0' is not a latitude (-90 to 90)",
    ]
    assert (pf.rows_total, pf.accepted_rows, pf.rejected_rows) == (4, 1, 3)
    pf.check_accounting()


def test_rows_with_same_key_in_one_file_are_separate_events(tmp_path):
    p = tmp_path / "twice.csv"
    p.write_text("Date,Type,Site\n2026-01-27,SRBM,Wonsan\n2026-01-27,SRBM,Wonsan\n", encoding="utf-8")
    ids = [i.event["id"] for i in read_file(p).incoming]
    assert ids == ["2026-01-27-srbm-wonsan", "2026-01-27-srbm-wonsan-2"]


def test_per_missile_rows_grouped(tmp_path):
    p = tmp_path / "missiles.csv"
    p.write_text("Date,Type,Site,Distance,Result,Shot\n"
                 "2026-01-27,SRBM,Wonsan,350 km,success,a\n"
                 "2026-01-27,SRBM,Wonsan,340 km,failure,b\n"
                 "2026-01-28,cruise,Nampo,,success,c\n", encoding="utf-8")
    pf = read_file(p, ImportOptions(rows="missiles"))
    assert len(pf.incoming) == 2
    first = pf.incoming[0]
    assert (first.event["count"], first.event["distance_km"], first.event["distance_km_max"]) == (2, 340.0, 350.0)
    assert first.event["outcome"] == "unknown" and "1 success, 1 failure" in first.event["notes"]
    assert [m["notes"] for m in first.missiles] == ["Colleague column 'Shot': a", "Colleague column 'Shot': b"]
    assert first.rows == [2, 3]


# ------------------------------------------------------------------------ xlsx
def test_xlsx_header_below_title_and_blank_rows_with_typed_cells(tmp_path):
    p = write_xlsx(tmp_path / "w.xlsx", {
        "Notes": [["This workbook lists launches"], ["prepared by a colleague"]],
        "Launches": [
            [None], ["North Korean launches 2026"], [None],
            ["Date", "Time (KST)", "Type", "Distance (km)", "Doubled"],
            [dt.datetime(2026, 1, 27), dt.time(15, 50), "SRBM", 350, "=D5*2"],
            [46053, 0.25, "SRBM", "1,380 km", "=D6*2"],
        ],
    }, cached={("Launches", "E5"): 700, ("Launches", "E6"): "n/a"})
    pf = read_file(p)
    assert (pf.sheet, pf.sheets, pf.header_row) == ("Launches", ["Notes", "Launches"], 4)
    assert pf.rejections == []
    a, b = (i.event for i in pf.incoming)
    assert (a["date"], a["time_kst"], a["distance_km"]) == ("2026-01-27", "15:50", 350.0)
    assert (b["date"], b["time_kst"], b["distance_km"]) == ("2026-01-31", "06:00", 1380.0)
    # the formula's cached value, not its text, reaches notes
    assert a["notes"] == "Colleague column 'Doubled': 700"
    assert b["notes"] == ""  # cached 'n/a' is a null token
    # choosing another sheet by name
    with pytest.raises(importer.FileRejected) as e:
        read_file(p, ImportOptions(sheet="Nope"))
    assert str(e.value) == "w.xlsx: has no sheet 'Nope' (sheets: Notes, Launches)"


def test_cns_workbook_blank_first_row_several_sheets(shared_data, tmp_path):
    import csv
    import io

    text = (shared_data / "north_korea_missile_test_database.csv").read_bytes().decode("cp1252")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    data = [[None]] + [rows[0] + ["Check"]] + [r + [f"=A{i + 3}"] for i, r in enumerate(rows[1:])]
    cached = {("Data", f"T{i + 3}"): int(r[0]) for i, r in enumerate(rows[1:])}
    for order in (["Data", "About", "Lists"], ["About", "Data", "Lists"]):
        sheets = {n: (data if n == "Data" else [["CNS North Korea Missile Test Database"], ["x"]])
                  for n in order}
        p = write_xlsx(tmp_path / f"cns-{order[0]}.xlsx", sheets, cached=cached)
        pf = read_file(p)
        assert (pf.kind, pf.sheet, pf.header_row, pf.rows_total) == ("cns", "Data", 2, 245)
        assert pf.rejected_rows == 0 and pf.accepted_rows == 245
        assert sum(len(i.missiles) for i in pf.incoming) == 245
        pf.check_accounting()


# ------------------------------------------------------------------------ json
def test_json_list_of_schema_objects(tmp_path):
    p = tmp_path / "e.json"
    p.write_text(json.dumps([{"date": "2026-01-27", "missile_class": "SRBM", "count": 2,
                              "distance_km": 350, "sources": ["a", "b"], "analyst": "Lee"}]), encoding="utf-8")
    ev = _one(read_file(p))
    assert (ev["count"], ev["distance_km"], ev["sources"]) == (2, 350.0, ["a", "b"])
    assert ev["notes"] == "Colleague column 'analyst': Lee"


def test_json_not_events(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(importer.FileRejected) as e:
        read_file(p)
    assert str(e.value).startswith("x.json: is JSON but not a list of launch events")


# ------------------------------------------------------------------------ the schema stays the judge
_CELLS = {
    "Date": ["2026-01-27", "Sep-84", "1984", "31-Feb-26", "2026년 1월 27일", "", "Unknown", "45000", "1/2/2026"],
    "Time (KST)": ["15:50", "3:50 PM", "", "25:00", "오후 3시", "unknown"],
    "Time (UTC)": ["06:50", "2026-01-27T06:50:00Z", "", "2026-01-26 21:00", "x"],
    "Type": ["SRBM", "icbm", "Hwasong", "", "cruise missile", "단거리탄도미사일"],
    "Number": ["2", "0", "-1", "several", "", "3발"],
    "Distance": ["350 km", "between 670 and 110 km", "~1,380 km", "-5 km", "60,000 km", "", "220 mi"],
    "Distance max": ["300", "", "900 km", "N/A"],
    "Apogee": ["80", "", "between 10 and 20 km", "abc"],
    "Latitude": ["39.0", "", "95", "abc"],
    "Longitude": ["125.7", "", "-200", "127"],
    "Outcome": ["success", "failed", "", "partial"],
    "Precision": ["", "day", "month", "week"],
    "Notes": ["", "x" * 20_000, "note"],
    "Analyst": ["", "y" * 20_000, "Kim"],
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _CELLS.items()}),
                     min_size=1, max_size=8))
def test_every_accepted_event_passes_the_schema(tmp_path_factory, rows):
    import csv
    import io

    from nkbrief.model import schema

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(_CELLS))
    w.writeheader()
    w.writerows(rows)
    p = tmp_path_factory.mktemp("g") / "g.csv"
    p.write_text(buf.getvalue(), encoding="utf-8")
    try:
        pf = read_file(p, ImportOptions(mapping={"Precision": "date_precision", "Distance max": "distance_km_max"}))
    except importer.FileRejected:
        return
    pf.check_accounting()
    for inc in pf.incoming:
        rep = schema.validate_event(inc.event)
        assert rep.ok, (inc.rows, str(rep))
