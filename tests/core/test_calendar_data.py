"""Checks on the bundled political calendar, resources/calendar.csv.

Plain pytest, no Qt: the file is read with the csv module only.
"""

import csv
import datetime as dt
from pathlib import Path

import pytest

CALENDAR = Path(__file__).resolve().parents[2] / "resources" / "calendar.csv"

HEADER = ["id", "date", "end_date", "category", "title", "description", "sources"]
CATEGORIES = {
    "party_congress",
    "plenum",
    "spa_session",
    "summit",
    "exercise",
    "inauguration",
    "anniversary",
    "un_resolution",
    "nuclear_test",
    "other",
}


def _date(text):
    return dt.date.fromisoformat(text)


@pytest.fixture(scope="module")
def table():
    with CALENDAR.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [dict(zip(header, values)) for values in reader]
    return header, rows


@pytest.fixture(scope="module")
def rows(table):
    return table[1]


def test_header_is_exact(table):
    header, _ = table
    assert header == HEADER


def test_every_row_has_all_columns(rows):
    for row in rows:
        assert None not in row and len(row) == len(HEADER), row


def test_ids_unique_and_nonblank(rows):
    ids = [row["id"] for row in rows]
    assert all(i.strip() == i and i for i in ids)
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates


def test_dates_parse_and_end_not_before_start(rows):
    for row in rows:
        start = _date(row["date"])
        assert len(row["date"]) == 10, row["id"]
        if row["end_date"]:
            assert len(row["end_date"]) == 10, row["id"]
            assert _date(row["end_date"]) >= start, row["id"]


def test_category_in_vocabulary(rows):
    for row in rows:
        assert row["category"] in CATEGORIES, row["id"]


def test_title_and_description_present(rows):
    for row in rows:
        assert row["title"].strip(), row["id"]
        assert row["description"].strip(), row["id"]


def test_every_row_has_a_source(rows):
    for row in rows:
        sources = [s.strip() for s in row["sources"].split(" ; ")]
        assert sources and all(sources), row["id"]


def test_rows_sorted_by_date(rows):
    dates = [row["date"] for row in rows]
    assert dates == sorted(dates)


def _find(rows, category, date):
    return [r for r in rows if r["category"] == category and r["date"] == date]


def test_ninth_congress(rows):
    hits = _find(rows, "party_congress", "2026-02-19")
    assert len(hits) == 1
    assert hits[0]["end_date"] == "2026-02-25"
    assert "9th" in hits[0]["title"]


@pytest.mark.parametrize("date, ordinal", [("2016-05-06", "7th"), ("2021-01-05", "8th")])
def test_seventh_and_eighth_congress(rows, date, ordinal):
    hits = _find(rows, "party_congress", date)
    assert len(hits) == 1
    assert ordinal in hits[0]["title"]


def test_lee_xi_summit(rows):
    hits = _find(rows, "summit", "2026-01-05")
    assert any("Lee" in r["title"] and "Xi" in r["title"] for r in hits)


def test_nuclear_tests_match_csis(rows):
    dates = sorted(r["date"] for r in rows if r["category"] == "nuclear_test")
    assert dates == [
        "2006-10-09",
        "2009-05-25",
        "2013-02-12",
        "2016-01-06",
        "2016-09-09",
        "2017-09-03",
    ]


def test_each_category_has_rows(rows):
    present = {row["category"] for row in rows}
    assert present == CATEGORIES


def test_coverage_spans_1984_to_2026(rows):
    years = {_date(row["date"]).year for row in rows}
    assert min(years) <= 1984
    assert max(years) >= 2026


def test_issue_14_calendar_fixes(rows):
    by_id = {r["id"]: r for r in rows}
    fs = by_id["exercise-fs-2025"]
    assert (fs["date"], fs["end_date"]) == ("2025-03-10", "2025-03-20")   # USFK completion release
    assert "USFK" in fs["sources"]
    for rid, date, n in (("election-rok-na-2016", "2016-04-13", "20th"), ("election-rok-na-2020", "2020-04-15", "21st"),
                         ("election-rok-na-2024", "2024-04-10", "22nd")):
        r = by_id[rid]
        assert r["date"] == date and r["category"] == "other" and n in r["description"]
        assert "National Election Commission" in r["sources"]
    lee_xi = by_id["summit-2025-11-01-gyeongju"]
    assert (lee_xi["date"], lee_xi["category"]) == ("2025-11-01", "summit")
    assert "Lee Jae-myung" in lee_xi["title"] and "Xi Jinping" in lee_xi["title"]
    assert lee_xi["sources"]
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates)


def test_calendar_sources_doc_counts_match(rows):
    from collections import Counter

    doc = (CALENDAR.parent / "CALENDAR_SOURCES.md").read_text(encoding="utf-8")
    assert f"holds {len(rows)} dated" in doc
    for cat, n in Counter(r["category"] for r in rows).items():
        assert f"| `{cat}` | {n} |" in doc, cat
