"""nagix and CSIS readers, the CSIS prose parsers and the news-notes table, on the real files."""

from __future__ import annotations

import functools
import json
from collections import Counter

import pytest

from nkbrief.importing.io.csis import (classify, parse_count, parse_measures, parse_site, parse_stated_date,
                             parse_time_kst, read_csis_csv)
from nkbrief.importing.io.nagix import read_nagix
from nkbrief.importing.reconcile import read_launch_notes

CSIS = "north_korea_provocations_1958_present.csv"


@functools.lru_cache(maxsize=None)
def _nagix(path):
    return read_nagix(path)


@functools.lru_cache(maxsize=None)
def _csis(path):
    return read_csis_csv(path)


@pytest.fixture
def nagix(shared_data):
    return _nagix(shared_data / "nagix-nk-missile-tests")


@pytest.fixture
def csis(shared_data):
    return _csis(shared_data / CSIS)


# ----------------------------------------------------------------------------- nagix

def test_nagix_reads_every_record_and_resolves_keys(nagix, shared_data):
    df, report = nagix
    assert report.rows_read == 339 and len(df) == 339
    assert report.problems == []                       # every missile and facility key resolves
    folder = shared_data / "nagix-nk-missile-tests"
    missiles = json.loads((folder / "missile.en.json").read_text(encoding="utf-8"))
    assert set(df.missile_key) <= set(missiles)
    assert df.missile_name.isna().sum() == (df.missile_key == "unknown").sum()   # name "Unknown" is null
    known_site = df[df.facility_key != "unknown"]
    assert known_site.facility_name.notna().all() and known_site.latitude.notna().all()
    # the 'unknown' facility carries placeholder coordinates, which are not passed on
    assert df[df.facility_key == "unknown"].latitude.isna().all()
    by_year = Counter(d[:4] for d in df.date)
    assert (by_year["2023"], by_year["2024"], by_year["2025"], by_year["2026"]) == (33, 41, 11, 25)


def test_nagix_mixed_types_times_and_month_dates(nagix):
    df, _ = nagix
    assert df.time_utc_clock.isna().sum() == 84        # "unknown"
    assert (df.date_precision == "month").sum() == 8
    assert all(v is None or isinstance(v, float) for v in df.apogee_km)
    assert all(v is None or isinstance(v, float) for v in df.distance_km)
    seed = df[(df.date == "2026-01-27")].sort_values("record")
    assert list(seed.time_utc) == ["2026-01-27T06:54:00Z", "2026-01-27T07:02:00Z"]   # "06:54 (UTC)"
    assert list(seed.distance_km) == [350.0, 340.0] and list(seed.apogee_km) == [80.0, 70.0]  # "350" strings
    assert set(seed.missile_class) == {"SRBM"} and set(seed.landing) == {"East Sea (Sea of Japan)"}
    fail = df[(df.date == "2023-11-22")].iloc[0]       # apogee/distance "na"
    assert fail.apogee_km is None and fail.distance_km is None and fail.outcome == "failure"


# ----------------------------------------------------------------------------- CSIS

def test_csis_keeps_the_246_missile_rows(csis):
    df, report = csis
    assert report.rows_read == 493
    assert len(df) == 246
    assert set(df.type) == {"Missile Provocation"}
    assert any("247 rows of other types" in n for n in report.notes)
    assert report.problems == []
    by_year = Counter(d[:4] for d in df.date)
    assert (by_year["2023"], by_year["2024"], by_year["2025"], by_year["2026"]) == (23, 20, 19, 18)
    assert all(c is None or c in {"SRBM", "CRBM", "MRBM", "IRBM", "ICBM", "SLBM", "SLV", "HGV", "cruise",
                                  "MLRS", "unknown"} for c in df.missile_class)


def _one(df, date, event=None):
    rows = df[(df.date == date) & (df.event.str.startswith(event) if event else True)]
    assert len(rows) == 1, (date, event, len(rows))
    return rows.iloc[0]


def test_csis_event_classification(csis):
    df, _ = csis
    assert _one(df, "2024-05-31").missile_class == "MLRS"            # "Multiple Lanuch Rocket System"
    assert _one(df, "2023-07-22").missile_class == "cruise"          # "Strategic cruise missile"
    assert _one(df, "1994-05-31").missile_class == "cruise"          # anti-ship cruise missile
    assert _one(df, "2022-08-17").missile_class == "cruise"          # labelled SRBM, text: cruise missiles
    assert _one(df, "2016-02-07").missile_class == "SLV"             # satellite launch
    assert _one(df, "2017-03-22").missile_class == "unknown"         # "(type unknown)"
    assert _one(df, "2025-03-10").missile_class == "CRBM"            # generic label, text: CRBMs
    assert _one(df, "2021-09-28").missile_class == "HGV"             # text: "hypersonic missile"
    assert _one(df, "2025-01-06").missile_class == "IRBM"            # IRBM label kept though hypersonic
    assert _one(df, "2026-08-12").missile_class == "SRBM"            # an analyst's "could have been" is not enough
    assert _one(df, "2026-04-07").missile_class == "unknown"         # next day's SRBMs are another launch
    assert _one(df, "2025-11-01").missile_class == "MLRS"            # "Artillery Fire": artillery rockets
    engine = _one(df, "2026-03-29")
    assert engine.missile_class is None and not engine.is_launch     # an engine ground test


def test_csis_description_parsing_on_real_rows(csis):
    df, _ = csis
    r = _one(df, "2026-08-20")
    assert (r.time_kst, r["count"], r.distance_km, r.apogee_km, r.site) == ("17:00", 10, 320.0, 90.0, "Pyongyang area")
    r = _one(df, "2026-01-27")
    assert (r.time_kst, r["count"], r.distance_km) == ("15:50", 5, 350.0)
    assert r.count_text == "five missiles"
    r = _one(df, "2022-10-06")   # "217 miles (350 km) ... 50 miles (80 km) ... 487 miles (800 km) ... 37 miles (60 km)"
    assert (r.time_kst, r["count"], r.distance_km, r.apogee_km, r.site) == ("06:01", 2, 800.0, 80.0, "Samsok area")
    r = _one(df, "2025-03-10")   # "37 to 62 miles (60 to 100 kilometers)"
    assert (r.time_kst, r.distance_km, r.distance_km_max, r["count"]) == ("13:50", 60.0, 100.0, None)
    r = _one(df, "2023-08-30")   # "between 11:40-11:50 p.m."
    assert r.time_kst == "23:40"
    r = _one(df, "2026-03-04")   # "around 8:30 a.m. the following day": not the row's day
    assert r.time_kst is None
    r = _one(df, "2020-03-06")   # the text itself says "On March 9, 2020"
    assert r.stated_date == "2020-03-09"
    r = _one(df, "2026-07-03")
    assert r.leader_attended is True and "oversaw" in r.leader_text
    assert _one(df, "2026-08-06").leader_attended is None


def test_prose_parsers_directly():
    assert parse_time_kst("detected at around 5:00 p.m. on Friday")[0] == "17:00"
    assert parse_time_kst("at 1:40am towards the sea")[0] == "01:40"
    assert parse_time_kst("around 12 p.m. from the Pyongyang area")[0] == "12:00"
    assert parse_time_kst("flew for 7:52 minutes")[0] is None
    assert parse_count("fired around 10 short-range ballistic missiles")[0] == 10
    assert parse_count("launched a short-range ballistic missile")[0] == 1
    assert parse_count("One of the missiles flew 800 km")[0] is None
    assert parse_count("multiple cruise missiles; later it tested a new-type anti-aircraft missile")[0] is None
    m = parse_measures("The missile flew about 435 miles, with an apogee of 30 miles")
    assert m["distance"][0] == pytest.approx(700.1) and m["apogee"][0] == pytest.approx(48.3)
    m = parse_measures("splashed down 250 kilometers (155 miles) west of Okushiri Island")
    assert m["distance"][0] is None
    assert parse_site("from the eastern coastal city of Hamhung toward")[0] == "Hamhung"
    assert parse_site("from Pyongyang's destroyer Choe Hyon")[0] is None
    assert parse_stated_date("North Korea fired two SRBMs on Wednesday from 03:30", "2023-07-18")[0] == "2023-07-19"
    assert classify("Short-range Missile Launch", "North Korea launched a surface-to-air missile.")[0] == "unknown"


# ----------------------------------------------------------------------------- news notes

def test_news_notes_table(shared_data):
    rows = read_launch_notes(shared_data / "recent_launches_notes.md")
    assert [r.date for r in rows] == ["2025-01-06", "2025-01-14", "2025-03-10", "2025-05-08", "2025-10-22",
                                      "2025-11-07", "2026-01-04", "2026-01-27", "2026-03-14", "2026-04-19",
                                      "2026-09-20", "2026-09-20", "2026-10-03"]
    seed = rows[7]
    assert (seed.time_kst, seed.count, seed.distance_km, seed.apogee_km) == ("15:50", 2, 350.0, 80.0)
    assert len(seed.urls) == 5 and "https://www.koreaherald.com/article/10663972" in seed.urls
    jan4 = rows[6]
    assert (jan4.time_kst, jan4.distance_km, jan4.count, jan4.leader) == ("07:50", 900.0, None, True)
    assert rows[0].distance_km == 1100.0 and rows[0].apogee_km == 100.0   # "JCS: ~1,100 km, apogee ~100 km"
    assert rows[2].distance_km is None      # only the datasets' 60–100 km, which is not news
    assert rows[8].distance_km == 350.0 and rows[8].time_kst is None and rows[8].count == 10
    assert rows[8].count_qualifier == "about"              # "~10"
    assert rows[3].distance_qualifier == "up to"           # "up to ~800 km"
    assert not any(r.jmod for r in rows[:10])
    # The Japan MoD table is read by its header: its Landing column is not taken for the URLs.
    a, b, c = rows[10:]
    assert (a.time_kst, b.time_kst, c.time_kst) == ("15:00", "17:54", "06:36")
    assert a.jmod and a.urls == ["https://www.mod.go.jp/j/press/news/2026/09/20e.pdf"]
    assert b.urls == ["https://www.mod.go.jp/j/press/news/2026/09/20i.pdf"]
    assert c.urls == ["https://www.mod.go.jp/j/press/news/2026/10/03d.pdf"]
    assert a.landing == "Sea of Japan, outside Japan's EEZ" and a.area.startswith("near the east coast")
    assert (a.count, a.count_qualifier) == (1, "at least")
    assert (a.distance_km, a.distance_qualifier, a.apogee_km, a.apogee_qualifier) == (440.0, "about", 60.0, "about")
    assert (c.distance_km, c.apogee_km) == (680.0, 90.0)


def test_source_items_are_tidied():
    from nkbrief.importing.io import clean_sources
    from nkbrief.model.parse import split_sources

    raw = ('https://en.yna.co.kr/view/A?input=tw\nhttps://www.mod.go.jp/j/press/news/2022/06/05b.html"\n'
           'http://www.reuters.com/article/us-korea-north-usa-idUSKBN12F0S2Video; Jane\'s Intelligence Review')
    assert clean_sources(split_sources(raw)) == [
        "https://en.yna.co.kr/view/A?input=tw", "https://www.mod.go.jp/j/press/news/2022/06/05b.html",
        "http://www.reuters.com/article/us-korea-north-usa-idUSKBN12F0S2", "Jane's Intelligence Review"]
