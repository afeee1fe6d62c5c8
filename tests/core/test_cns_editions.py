"""Every CNS workbook edition is recognised by its columns: the 2017 edition (18 columns, no
launch time, header on row 2 below a blank row, 5 sheets) is grouped into launches with the
bundled build's KST rules, and matches the bundled launches."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from import_helpers import write_xlsx

from nkbrief.model import parse
from nkbrief.importing.io import public
from nkbrief.importing.io.cns import HEADERS
from nkbrief.importing.importer import plan_merge, read_file

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")

CNS = "north_korea_missile_test_database.csv"
COLUMNS_2017 = ["F1", "Date", "Date Entered/Updated", "Missile Name", "Missile Type", "Launch Agency/Authority",
                "Facility Name", "Facility Location", "Other Name", "Facility Latitude", "Facility Longitude",
                "Landing Location", "Apogee", "Distance Travelled", "Confirmation Status", "Test Outcome",
                "Additional Information", "Source(s)"]


def _rows_until_2017(shared_data) -> list[dict]:
    text = (shared_data / CNS).read_bytes().decode("cp1252")
    return [r for r in csv.DictReader(io.StringIO(text, newline="")) if parse.parse_date(r["Date"])[0] <= "2017-12-31"]


@pytest.fixture
def workbook_2017(shared_data, tmp_path):
    rows = _rows_until_2017(shared_data)
    data = [[None], COLUMNS_2017]
    for r in rows:
        cells = [r[c] for c in COLUMNS_2017]
        iso, precision = parse.parse_date(r["Date"])
        if precision == "day":  # a real date cell, as Excel holds it
            cells[1] = dt.datetime.fromisoformat(iso)
        data.append(cells)
    sheets = {"Introduction": [["CNS North Korea Missile Test Database"], ["James Martin CNS / NTI"]],
              "Missile Tests": data, "Facilities": [["Facility Name", "Latitude"], ["Sohae", 39.66]],
              "Missile Types": [["Missile Type"], ["SRBM"]], "Sources": [["Source(s)"], ["KCNA"]]}
    return write_xlsx(tmp_path / "cns-2017.xlsx", sheets), rows


def test_editions_are_told_by_their_columns():
    assert len(COLUMNS_2017) == 18 and set(COLUMNS_2017) == set(HEADERS) - {"Launch Time (UTC)"}
    assert public.is_cns(list(HEADERS)) and public.is_cns(COLUMNS_2017)
    assert public.is_cns([h.upper() + " " for h in COLUMNS_2017])
    assert "no launch-time column" in public.cns_edition(COLUMNS_2017)
    assert "launch-time (UTC) column" in public.cns_edition(list(HEADERS))
    assert not public.is_cns(["Date", "Missile Name", "Facility Name"])


def test_2017_workbook_is_grouped_into_launches(workbook_2017):
    path, rows = workbook_2017
    pf = read_file(path)
    assert (pf.kind, pf.sheet, pf.header_row, pf.rows_mode) == ("cns", "Missile Tests", 2, "missiles")
    assert len(pf.sheets) == 5
    assert pf.rows_total == len(rows) and pf.accepted_rows == len(rows) and not pf.rejections
    pf.check_accounting()
    assert sum(len(i.missiles) for i in pf.incoming) == len(rows)
    assert len(pf.incoming) < len(rows)  # launches, not one event per missile row
    assert any("no launch-time column" in n for n in pf.notes)
    # the Scud-ER salvo of 6 March 2017 (KST; CNS dates it 5 March, UTC) is one launch of all its rows
    salvo = [r for r in rows if r["Missile Name"] == "ER Scud" and parse.parse_date(r["Date"])[0] == "2017-03-05"]
    assert len(salvo) > 1
    scud_er = [i for i in pf.incoming if i.event["missile_name"] == "ER Scud" and i.event["date"] >= "2017-03-01"]
    assert len(scud_er) == 1 and scud_er[0].event["count"] == len(salvo) == len(scud_er[0].missiles)
    # the bundled build's date rule, stated on every event
    assert all("Date basis: CNS date" in i.event["provenance"] for i in pf.incoming)
    assert {i.event["confirmation"] for i in pf.incoming} <= {"confirmed", "unconfirmed", "not stated"}


def test_2017_workbook_adds_no_launch_the_bundled_data_has(workbook_2017, seeded_store):
    path, _rows = workbook_2017
    pf = read_file(path)
    assert pf.utc_dates
    plan = plan_merge(seeded_store, pf)
    assert plan.counts()["new"] == 0
    by_id = {pf.incoming[it.index].event["id"]: it for it in plan.items}
    # no time column: the UTC date 2017-11-28 of the Hwasong-15 is matched to the Korean date
    it = by_id["2017-11-28-icbm-pyongsong-field"]
    assert it.existing_id == "2017-11-29-icbm-pyongsong-field"
    assert it.rule == "kst-date±1 (2017-11-29)+system Hwasong-15+site Pyongsong"
    assert by_id["2017-07-28-icbm-mupyong-ni-arms-plant"].rule == "id"
