"""nkbrief.analysis.filtering: the numpy filter/sort/format layer under the event table (no Qt)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nkbrief.model import schema
from nkbrief.analysis.filtering import (COLUMN_KEYS, EventView, FilterSpec, launch_times, merge_runs,
                               missiles_per_event, parse_date_bound, selection_summary)


def _ev(**kw):
    ev = schema.empty_event() | kw
    ev["id"] = ev["id"] or schema.make_event_id(ev["date"], ev["missile_class"], ev.get("launch_site"))
    if ev.get("time_kst") and ev["date_precision"] == "day":
        ev["time_utc"] = schema.kst_to_utc(ev["date"], ev["time_kst"])
    return ev


@pytest.fixture
def store(empty_store):
    evs = [
        _ev(date="1986-05-01", date_precision="month", missile_class="SRBM", missile_name="Scud-B",
            launch_site="Musudan-ri", count=None),
        _ev(date="2017-07-04", time_kst="09:40", missile_class="ICBM", missile_name="Hwasong-14",
            launch_site="Panghyon", count=1, distance_km=933.0, notes="first ICBM"),
        _ev(date="2017-11-29", time_kst="03:17", missile_class="ICBM", missile_name="Hwasong-15",
            launch_site="Pyongsong", count=1, distance_km=950.0),
        _ev(date="2019-07-25", time_kst="05:34", missile_class="SRBM", missile_name="KN-23",
            launch_site="Hodo", count=2, distance_km=600.0, distance_km_max=690.0, outcome="success"),
        _ev(date="2022-03-24", missile_class="ICBM", missile_name="화성-17", launch_site="Sunan",
            count=None, distance_km=1090.0, description="Hangul name; no time reported"),
        _ev(date="2026-03-14", missile_class="unknown", confirmation="unconfirmed",
            description='=HYPERLINK("http://x") looks like a formula'),
    ]
    b = empty_store.new_batch("manual")
    for e in evs:
        empty_store.insert_event(e, b)
    # two per-missile rows for the 1986 event, whose count is unknown
    with empty_store.write():
        for i in (1, 2):
            empty_store._insert_missile({"event_id": evs[0]["id"], "seq": i, "missile_class": "SRBM"}, b)
    return empty_store


@pytest.fixture
def view(store):
    return EventView(store.events_frame())


def test_parse_date_bound_widens_partial_dates():
    assert parse_date_bound("2017") == "2017-01-01"
    assert parse_date_bound("2017", end=True) == "2017-12-31"
    assert parse_date_bound("2024-02", end=True) == "2024-02-29"
    assert parse_date_bound(" 2026-01-27 ") == "2026-01-27"
    assert parse_date_bound("") is None
    with pytest.raises(ValueError, match=r"'2017-13' is not a date \(YYYY, YYYY-MM or YYYY-MM-DD\)"):
        parse_date_bound("2017-13")
    with pytest.raises(ValueError, match="is not a date"):
        parse_date_bound("31-Feb-26")


def test_merge_runs():
    assert merge_runs(np.array([1, 2, 3, 7, 9, 10])) == [(1, 3), (7, 7), (9, 10)]
    assert merge_runs(np.array([], dtype=int)) == []
    assert merge_runs(np.arange(20_000) * 2)[:2] == [(0, 0), (2, 2)]


def test_display_strings_state_precision_and_ranges(view):
    f = view.frame
    row = {i: k for k, i in enumerate(f["id"])}
    kn23 = row[f.loc[f["missile_name"] == "KN-23", "id"].iloc[0]]
    scud = row[f.loc[f["missile_name"] == "Scud-B", "id"].iloc[0]]
    assert view.display("date")[scud] == "1986-05"
    assert view.display("distance_km")[kn23] == "600–690"
    assert view.display("count")[scud] == ""
    assert view.display("sources")[kn23] == "0"
    assert view.display("time_kst")[row[f["id"].iloc[-1]]] == ""


def test_filters(view):
    assert view.counts()[:2] == (6, 6)
    view.set_filter(FilterSpec(text="HWASONG"))
    assert sorted(view.ids_for_view_rows(range(view.rows.size))) == sorted(
        view.frame.loc[view.frame["missile_name"].str.startswith("Hwasong"), "id"])
    view.set_filter(FilterSpec(text="first icbm"))  # words may sit in different fields/orders
    assert [view.frame["missile_name"][r] for r in view.rows] == ["Hwasong-14"]
    view.set_filter(FilterSpec(text="화성"))
    assert [view.frame["missile_name"][r] for r in view.rows] == ["화성-17"]
    view.set_filter(FilterSpec(date_from="2017-01-01", date_to="2017-12-31"))
    assert view.rows.size == 2
    view.set_filter(FilterSpec(classes=frozenset({"SRBM", "unknown"})))
    assert view.rows.size == 3
    view.set_filter(FilterSpec(outcome="success"))
    assert view.rows.size == 1
    view.set_filter(FilterSpec(confirmation="unconfirmed"))
    assert view.rows.size == 1
    view.set_filter(FilterSpec(has_notes=True))
    assert view.visible_ids() == [view.frame.loc[view.frame["notes"] == "first ICBM", "id"].iloc[0]]
    view.set_filter(FilterSpec(classes=frozenset()))
    assert view.rows.size == 0 and view.status_text() == "0 of 6 events · 0 missiles fired"


def test_sort_every_column_missing_last_and_stable(view):
    for key in COLUMN_KEYS:
        for asc in (True, False):
            view.sort(key, asc)
            k = view.sort_key(key)[view.rows]
            known = k[~np.isnan(k)]
            assert np.isnan(k[known.size:]).all(), key  # missing values always at the end
            assert (np.all(np.diff(known) >= 0) if asc else np.all(np.diff(known) <= 0)), key
    view.sort("distance_km", False)
    names = [view.frame["missile_name"][r] for r in view.rows]
    assert names[:4] == ["화성-17", "Hwasong-15", "Hwasong-14", "KN-23"]
    view.sort(None)
    assert list(view.rows) == list(range(view.n))
    with pytest.raises(KeyError):
        view.sort("nope")


def test_sort_then_filter_keeps_order_and_inverse_map(view):
    view.sort("missile_class", True)
    view.set_filter(FilterSpec(text="a"))
    assert view.sort_column == "missile_class"
    inv = view.inverse
    for i, r in enumerate(view.rows):
        assert inv[r] == i
    hidden = np.setdiff1d(np.arange(view.n), view.rows)
    assert (inv[hidden] == -1).all()
    ids = view.visible_ids()
    assert list(view.view_rows_for_ids(ids[::-1] + ["no-such-id"])) == list(range(len(ids)))


def test_status_counts_missiles_from_count_then_rows(view):
    # counts: None->2 per-missile rows, 1, 1, 2, and two events with neither: no reported number,
    # never guessed to be one missile each (nkbrief.analysis.totals)
    per = missiles_per_event(view.frame)
    assert [None if x != x else int(x) for x in per] == [2, 1, 1, 2, None, None]
    assert view.status_text() == "6 of 6 events · 6 missiles fired (2 events with no reported number)"


def test_tsv_is_formula_safe_and_single_line(view):
    view.sort(None)
    last = view.rows.size - 1
    text = view.tsv([last], ["date", "missile_class", "launch_site"])
    assert text == "Date\tClass\tSite\n2026-03-14\tunknown\t\n"
    from nkbrief.analysis.filtering import _safe_cell

    assert _safe_cell('=HYPERLINK("x")') == "'=HYPERLINK(\"x\")"
    assert _safe_cell("-12") == "-12"  # a negative number stays a number
    assert _safe_cell("a\tb\nc") == "a b c"


def test_launch_times_use_utc_kst_or_noon_and_spans_for_months(view):
    t = launch_times(view.frame)
    f = view.frame
    i = int(np.flatnonzero(f["missile_name"] == "Hwasong-14")[0])
    assert t["x"][i] == pd.Timestamp("2017-07-04T00:40:00Z").timestamp()  # 09:40 KST
    j = int(np.flatnonzero(f["missile_name"] == "화성-17")[0])  # no time: noon KST
    assert t["x"][j] == pd.Timestamp("2022-03-24T03:00:00Z").timestamp()
    k = int(np.flatnonzero(f["missile_name"] == "Scud-B")[0])
    assert not t["precise"][k]
    assert t["x0"][k] == pd.Timestamp("1986-04-30T15:00:00Z").timestamp()  # 1 May 00:00 KST
    assert t["x1"][k] == pd.Timestamp("1986-05-31T15:00:00Z").timestamp()
    assert t["x0"][k] < t["x"][k] < t["x1"][k]


def _same_times(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=True), k


def test_launch_times_numpy_path_matches_pandas_parsers(view, seeded_store):
    """The store's dates and UTC times are parsed in numpy; any other shape goes to pandas'
    parsers. Both give the same seconds, spans and precision."""
    from nkbrief.analysis.filtering import _iso_days, _iso_utc_seconds, _launch_times_general

    bundled = seeded_store.events_frame()
    assert _iso_days(bundled["date"]) is not None and _iso_utc_seconds(bundled["time_utc"]) is not None
    for f in (view.frame, bundled):
        _same_times(launch_times(f), _launch_times_general(f))
    odd = bundled.copy()
    odd["date_precision"] = ["year" if i % 7 == 0 else "month" if i % 5 == 0 else p
                             for i, p in enumerate(odd["date_precision"])]
    odd.loc[odd.index[3], "date"] = None  # missing: NaT on both paths
    odd.loc[odd.index[4], "time_utc"] = None
    _same_times(launch_times(odd), _launch_times_general(odd))
    assert not launch_times(odd)["precise"][0]  # a year-only date is a span
    # another shape of UTC time (an offset) is read by pandas, as before
    i = next(i for i, p in enumerate(odd["date_precision"]) if p == "day" and i > 4)
    odd.loc[odd.index[i], "time_utc"] = "2016-02-07T09:29:00+09:00"
    assert _iso_utc_seconds(odd["time_utc"]) is None
    t = launch_times(odd)
    assert t["x"][i] == pd.Timestamp("2016-02-07T00:29:00Z").timestamp()
    odd.loc[odd.index[6], "date"] = "2016-02-30"  # not a date: NaT through pandas, no error
    assert _iso_days(odd["date"]) is None
    _same_times(launch_times(odd), _launch_times_general(odd))


def test_view_days_numpy_path_matches_pandas_parser(seeded_store):
    """The table's day numbers (date filters, the date sort) parse the store's dates in numpy."""
    f = seeded_store.events_frame()
    f.loc[f.index[2], "date"] = None

    def by_pandas(frame):
        d = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
        return d.to_numpy("datetime64[D]").astype("int64")

    assert np.array_equal(EventView(f).days, by_pandas(f))
    f.loc[f.index[5], "date"] = "2016-13-01"  # not a date: the general parser, NaT
    assert np.array_equal(EventView(f).days, by_pandas(f))


def test_selection_summary(view):
    s = selection_summary(view.frame)
    assert s["events"] == 6 and (s["missiles"].missiles, s["missiles"].no_number) == (6, 2)
    assert s["classes"] == {"ICBM": 3, "SRBM": 2, "unknown": 1}
    assert (s["first"], s["last"]) == ("1986-05-01", "2026-03-14")
    assert s["max_range_km"] == 1090.0
    assert selection_summary(view.frame.iloc[:0])["events"] == 0


def test_100k_style_frame_roundtrip_is_consistent():
    rng = np.random.default_rng(1)
    n = 5000
    frame = pd.DataFrame({
        "id": [f"e{i:05d}" for i in range(n)],
        "date": pd.to_datetime(rng.integers(0, 15000, n), unit="D", origin="1984-01-01").strftime("%Y-%m-%d"),
        "date_precision": "day", "time_kst": None, "time_utc": None,
        "missile_name": rng.choice(["A", "B", None], n), "missile_class": rng.choice(["SRBM", "ICBM"], n),
        "count": pd.array(rng.integers(1, 4, n), dtype="Int64"),
        "distance_km": np.where(rng.random(n) > 0.3, rng.random(n) * 1000, np.nan),
        "distance_km_max": np.nan, "apogee_km": np.nan, "apogee_km_max": np.nan,
        "launch_site": None, "latitude": np.nan, "longitude": np.nan, "landing_area": None,
        "outcome": "unknown", "confirmation": "confirmed", "leader_attended": None,
        "description": "", "sources": [[] for _ in range(n)], "notes": "",
        "missiles": pd.array(np.zeros(n, int), dtype="Int64"),
    }).sort_values("date", kind="stable").reset_index(drop=True)
    v = EventView(frame)
    v.sort("distance_km", True)
    expected = frame.sort_values("distance_km", kind="stable", na_position="last")["id"].tolist()
    assert v.visible_ids() == expected


def test_view_summary_matches_frame_summary(view):
    rows = np.array([0, 2, 3, 5])
    a = view.summary(rows)
    b = selection_summary(view.frame.iloc[rows])
    assert a.pop("max_range_row") == int(np.flatnonzero(view.frame["id"] == b["max_range_id"])[0])
    assert a == b
    assert view.summary([])["events"] == 0


def test_view_summary_orders_class_ties_as_value_counts_does(view):
    # rows given out of frame order, with two classes tied: the same order as the frame
    # summary of the same rows (first appearance), and the date span from only these rows
    rows = np.array([5, 0, 3, 1])
    a = view.summary(rows)
    b = selection_summary(view.frame.iloc[rows])
    assert list(a["classes"]) == list(b["classes"]) == ["SRBM", "unknown", "ICBM"]
    assert view._days is None  # no day numbers for every event were made for the summary
    assert (a["first"], a["last"]) == (min(view.frame["date"].iloc[[0, 1, 3, 5]]),
                                       max(view.frame["date"].iloc[[0, 1, 3, 5]]))


def test_table_selection_ids_find_their_rows_without_an_id_index(view):
    view.sort("distance_km", False)
    ids, rows = view.ids_for_view_rows_memo([0, 2, 3])
    assert isinstance(ids, tuple) and list(ids) == view.ids_for_view_rows([0, 2, 3])
    assert np.array_equal(view.frame_rows_for_ids(ids), rows)
    assert np.array_equal(view.frame_rows_for_ids([ids[-1]]), rows[-1:])  # the current event
    assert view._row_of is None  # the 100k-id hash is not built for the table's own selection
    # a copy is answered: changing it changes nothing remembered
    got = view.frame_rows_for_ids(ids)
    got[:] = -1
    assert np.array_equal(view.frame_rows_for_ids(ids), rows)
    # other ids (an equal tuple that is not the same object, unknown ids) are looked up
    other = tuple(list(ids)) + ("no-such-id",)
    assert np.array_equal(view.frame_rows_for_ids(other), rows)
    assert view._row_of is not None
    assert np.array_equal(view.frame_rows_for_ids(["no-such-id", ids[0]]), rows[:1])


def test_selection_keeps_the_callers_tuple_when_it_has_no_repeats():
    from nkbrief.selection import Selection

    sel = Selection()
    ids = ("a", "b", "c")
    assert sel.set(ids) and sel.ids is ids and sel.current == "c"
    assert not sel.set(("a", "b", "c"))  # equal: nothing changed, nobody notified
    assert sel.set(("a", "b", "a", "d"), current="b") and sel.ids == ("a", "b", "d") and sel.current == "b"
    assert sel.set(["x", "x"]) and sel.ids == ("x",) and "x" in sel and "a" not in sel


def test_hhmm_minutes_is_strict():
    from nkbrief.analysis.filtering import hhmm_minutes

    got = hhmm_minutes(["15:50", None, "", "1:50", "ab:cd", "23:59", float("nan"), "00:00", "12-30"])
    expected = [950, np.nan, np.nan, np.nan, np.nan, 1439, np.nan, 0, np.nan]
    assert np.array_equal(got, np.array(expected, dtype=float), equal_nan=True)
    assert hhmm_minutes([]).size == 0
