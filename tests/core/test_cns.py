"""The CNS/NTI missile test database reader, on the real file and on small made-up files."""

from __future__ import annotations

import csv
import functools
from collections import Counter

import pytest

from nkbrief.importing.io.cns import HEADERS, read_cns_csv, read_cns_records

CNS = "north_korea_missile_test_database.csv"


@functools.lru_cache(maxsize=None)
def _read(path):
    return read_cns_csv(path)


@functools.lru_cache(maxsize=None)
def _build(path):
    import importlib.util
    from pathlib import Path

    from nkbrief.importing import reconcile

    # the build refuses numbers that contradict their sources without a decision: use the script's
    script = Path(__file__).resolve().parents[2] / "scripts" / "build_dataset.py"
    spec = importlib.util.spec_from_file_location("build_dataset", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return reconcile.build(path, mod.EDITORIAL + mod.NUMBER_DECISIONS, mod.ROW_FIXES)


@pytest.fixture
def cns(shared_data):
    return _read(shared_data / CNS)


@pytest.fixture
def raw_rows(shared_data):
    with open(shared_data / CNS, encoding="cp1252", newline="") as f:
        return {int(r["F1"]): r for r in csv.DictReader(f)}


@pytest.fixture
def built(shared_data):
    return _build(shared_data)


def _row(df, f1):
    return df[df.source_row == f1].iloc[0]


def test_every_row_read_none_lost(cns):
    df, report = cns
    assert report.rows_read == 245
    assert len(df) == 245
    assert sorted(df.source_row) == list(range(1, 246))
    assert report.problems == []
    assert report.encoding == "cp1252"
    # the header is row 1; records with line breaks inside quoted cells push later rows down
    assert df.row.iloc[0] == 2
    assert df.row.is_monotonic_increasing and df.row.iloc[-1] > 246


def test_decoded_from_cp1252(cns):
    df, _ = cns
    text = " ".join(str(v) for col in ("additional_info", "facility_location") for v in df[col] if v)
    assert "°" in text                      # byte 0xB0
    assert "\ufffd" not in text and "Â" not in text and "\xa0" not in text
    assert "39°49'23.3\"N" in _row(df, 151).additional_info
    assert _row(df, 10).facility_location.startswith("Chiha-ri")  # had a 0xA0 (NBSP)


def test_two_digit_years_and_month_only_dates(cns, raw_rows):
    df, _ = cns
    assert df.date.min() == "1984-04-09" and df.date.max() == "2023-04-12"
    assert all("1984-01-01" <= d <= "2023-12-31" for d in df.date)
    months = df[df.date_precision == "month"]
    assert len(months) == 8
    assert set(months.source_row) == {f1 for f1, r in raw_rows.items() if r["Date"][0].isalpha()}
    assert _row(df, 4).date == "1984-09-01" and _row(df, 4).date_precision == "month"
    assert _row(df, 245).date == "2023-04-12"
    assert _row(df, 200).date_entered is not None  # '4/19/2023'-style and '23-Dec-16'-style both parse


def test_unknown_na_and_blank_become_null(cns, raw_rows):
    df, _ = cns
    counts = {"Apogee": Counter(), "Distance Travelled": Counter()}
    for f1, r in raw_rows.items():
        for col, key in (("Apogee", "apogee_km"), ("Distance Travelled", "distance_km")):
            token = r[col].strip()
            if token in ("Unknown", "N/A", ""):
                counts[col][token] += 1
                assert _row(df, f1)[key] is None, (f1, col, token)
    assert counts["Apogee"] == Counter({"Unknown": 69, "": 14, "N/A": 2})
    assert counts["Distance Travelled"] == Counter({"Unknown": 73, "": 13, "N/A": 5})
    assert df.apogee_km.isna().sum() == 69 + 14 + 2
    assert df.distance_km.isna().sum() == 73 + 13 + 5


def test_values_with_units(cns):
    df, _ = cns
    assert _row(df, 16).distance_km == 1380.0            # "1,380 km"
    r = _row(df, 187)                                     # "between 25 and 90 km" / "between 110 and 670 km"
    assert (r.apogee_km, r.apogee_km_max) == (25.0, 90.0)
    assert (r.distance_km, r.distance_km_max) == (110.0, 670.0)
    assert _row(df, 215).distance_km == 330.0             # "330 lm"
    assert _row(df, 16).latitude == pytest.approx(40.8499966)


def test_classes_outcomes_and_sources(cns):
    df, _ = cns
    assert Counter(df.missile_class) == Counter(
        {"SRBM": 163, "MRBM": 30, "IRBM": 16, "ICBM": 11, "SLBM": 10, "unknown": 8, "SLV": 6, "HGV": 1})
    assert Counter(df.confirmation) == Counter({"confirmed": 236, "unconfirmed": 9})
    assert Counter(df.outcome) == Counter({"success": 187, "failure": 33, "unknown": 25})
    assert all(isinstance(s, list) for s in df.sources)
    for srcs in df.sources:
        for s in srcs:
            assert s == s.strip() and s.count("http") <= 1, s   # glued URLs and newlines split


def test_time_utc_is_cns_date_plus_clock_before_reconciliation(cns):
    df, _ = cns
    assert _row(df, 84).time_utc == "2016-06-21T20:56:00Z"   # '8:56:00 PM' on 21-Jun-16, as written
    assert _row(df, 79).time_utc == "2016-04-15T20:33:00Z"
    assert _row(df, 1).time_utc is None                       # blank time


def test_korean_dates_after_reconciliation(built):
    by_ref = {m["source_ref"]: m for m in built.missiles}
    events = {e["id"]: e for e in built.events}
    m = by_ref["CNS F1 84"]                 # 21-Jun-16 8:56 PM UTC: the CNS date is the UTC date
    assert m["time_utc"] == "2016-06-21T20:56:00Z" and m["time_kst"] == "05:56"
    ev = events[m["event_id"]]
    assert ev["date"] == "2016-06-22" and ev["time_kst"] == "05:56"
    assert "read as UTC" in ev["provenance"] and "CSIS 2016-06-22" in ev["provenance"]
    m = by_ref["CNS F1 79"]                 # 15-Apr-16 8:33 PM UTC: the CNS date is the Korean date
    assert m["time_utc"] == "2016-04-14T20:33:00Z" and m["time_kst"] == "05:33"
    ev = events[m["event_id"]]
    assert ev["date"] == "2016-04-15" and ev["time_kst"] == "05:33"
    assert ev["time_utc"] == "2016-04-14T20:33:00Z"
    assert "Korean date" in ev["provenance"] and "CSIS 2016-04-15" in ev["provenance"]


def _write(tmp_path, rows: list[list[str]], name="cns.csv") -> object:
    p = tmp_path / name
    with open(p, "w", encoding="cp1252", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(HEADERS)
        for r in rows:
            w.writerow(r)
    return p


def _cells(**kw) -> list[str]:
    base = dict.fromkeys(HEADERS, "")
    base.update({"F1": "1", "Date": "9-Apr-84", "Missile Type": "SRBM", "Confirmation Status": "Confirmed",
                 "Test Outcome": "Success"})
    base.update(kw)
    return [base[h] for h in HEADERS]


def test_bad_cells_are_reported_per_row_and_no_row_is_lost(tmp_path):
    p = _write(tmp_path, [
        _cells(F1="1", **{"Source(s)": "http://a.example/x\nhttp://b.example/y"}),
        _cells(F1="2", Date="31-Feb-99", Apogee="very high", **{"Missile Type": "Rocket"}),
        _cells(F1="3", **{"Launch Time (UTC)": "25:99:00 PM", "Facility Latitude": "north"}),
    ])
    df, report = read_cns_csv(p)
    assert len(df) == 3 and report.rows_read == 3
    msgs = report.messages()
    # row 2 is the first record, spread over lines 2-3; the second record starts on line 4
    assert "row 4: Date '31-Feb-99' is not a date" in msgs
    assert "row 4: Apogee 'very high' is not a distance" in msgs
    assert any(m.startswith("row 4: Missile Type 'Rocket' is not one of") for m in msgs)
    assert "row 5: Launch Time (UTC) '25:99:00 PM' is not a time" in msgs
    assert "row 5: Facility Latitude 'north' is not a number" in msgs
    assert df.iloc[1].date is None and df.iloc[1].missile_class == "unknown"
    assert df.iloc[0].sources == ["http://a.example/x", "http://b.example/y"]


def test_reads_the_original_xlsx_layout(tmp_path):
    import datetime as dt

    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([None])  # the NTI workbook's blank first row
    ws.append(list(HEADERS))
    row = _cells(F1="7", Date="", Apogee="1,380 km")
    row[HEADERS.index("Date")] = dt.datetime(2016, 6, 21)
    row[HEADERS.index("Launch Time (UTC)")] = dt.time(20, 56)
    ws.append(row)
    p = tmp_path / "cns.xlsx"
    wb.save(p)
    records, report = read_cns_records(p)
    assert report.rows_read == 1 and report.problems == []
    r = records[0]
    assert r["row"] == 3 and r["source_row"] == 7
    assert r["date"] == "2016-06-21" and r["time_utc"] == "2016-06-21T20:56:00Z"
    assert r["apogee_km"] == 1380.0
