"""Search syntax, column filters and the date-range check of nkbrief.analysis.filtering (no Qt)."""

from __future__ import annotations

import pytest

from nkbrief.model import schema
from nkbrief.analysis.filtering import (COLUMN_KEYS, EventView, FilterSpec, Query, QueryError, Term, date_range,
                               parse_query)


def _ev(**kw):
    ev = schema.empty_event() | kw
    ev["id"] = ev["id"] or schema.make_event_id(ev["date"], ev["missile_class"], ev.get("launch_site"))
    return ev


@pytest.fixture
def view(empty_store):
    evs = [
        _ev(date="2017-07-04", missile_class="ICBM", missile_name="Hwasong-14", launch_site="Panghyon",
            distance_km=933.0, outcome="success", description="first ICBM, before the party congress"),
        _ev(date="2017-11-29", missile_class="ICBM", missile_name="Hwasong-15", launch_site="Pyongsong",
            distance_km=950.0, outcome="success"),
        _ev(date="2019-07-25", missile_class="SRBM", missile_name="KN-23", launch_site="Hodo",
            distance_km=600.0, distance_km_max=690.0, outcome="failure", notes="party mood"),
        _ev(date="2022-03-24", missile_class="ICBM", missile_name="화성-17", launch_site="Sunan airport",
            distance_km=1090.0, leader_attended=True),
        _ev(date="2023-04-13", missile_class="IRBM", missile_name="", launch_site="Sunan", count=None),
    ]
    b = empty_store.new_batch("manual")
    for e in evs:
        empty_store.insert_event(e, b)
    return EventView(empty_store.events_frame())


def names(view):
    return sorted(view.frame["missile_name"][r] or "-" for r in view.rows)


def test_parse_query_terms_phrases_or_negation_fields():
    q = parse_query('Hwasong "party congress" -failure class:ICBM OR class:irbm site:"Sunan airport"')
    assert q.groups == (
        (Term("hwasong"),),
        (Term("party congress"),),
        (Term("failure", negate=True),),
        (Term("icbm", "missile_class"), Term("irbm", "missile_class")),
        (Term("sunan airport", "launch_site"),),
    )
    assert parse_query("   ").is_empty() and parse_query(None) == Query()
    assert parse_query("id:2017-07-04").groups == ((Term("2017-07-04", "id"),),)
    assert parse_query("15:50").groups == ((Term("15:50"),),)  # a time is not a field
    assert parse_query('"party con').groups == ((Term("party con"),),)  # still typing: lenient
    assert parse_query("a or b").groups == ((Term("a"),), (Term("or"),), (Term("b"),))  # only OR joins


@pytest.mark.parametrize("text, message", [
    ("colour:red", r"unknown search field 'colour:' \(use class:, name:"),
    ("class:", r"'class:' needs a value, e.g. class:ICBM"),
    ("OR icbm", "OR needs a search term on each side"),
    ("icbm OR", "OR needs a search term on each side"),
    ("a OR OR b", "OR needs a search term on each side"),
])
def test_parse_query_errors_in_words(text, message):
    with pytest.raises(QueryError, match=message):
        parse_query(text)


def test_search_applies_the_syntax(view):
    view.set_filter(FilterSpec(text="class:ICBM"))
    assert names(view) == ["Hwasong-14", "Hwasong-15", "화성-17"]
    view.set_filter(FilterSpec(text="class:icbm OR class:IRBM -hwasong"))
    assert names(view) == ["-", "화성-17"]
    view.set_filter(FilterSpec(text='"party congress"'))
    assert names(view) == ["Hwasong-14"]
    view.set_filter(FilterSpec(text="party"))  # a word matches description and notes alike
    assert names(view) == ["Hwasong-14", "KN-23"]
    view.set_filter(FilterSpec(text="site:Sunan"))
    assert names(view) == ["-", "화성-17"]
    view.set_filter(FilterSpec(text='site:"sunan airport"'))
    assert names(view) == ["화성-17"]
    view.set_filter(FilterSpec(text="hodo OR pyongsong"))
    assert names(view) == ["Hwasong-15", "KN-23"]
    one = view.frame["id"][2]
    view.set_filter(FilterSpec(text=f"id:{one}"))
    assert view.visible_ids() == [one]
    view.set_filter(FilterSpec(text=one[:10]))  # plain words match ids too
    assert view.visible_ids() == [one]
    view.set_filter(FilterSpec(text="date:2017"))
    assert names(view) == ["Hwasong-14", "Hwasong-15"]
    view.set_filter(FilterSpec(text="class:SRB"))  # a class is matched whole, not in part
    assert names(view) == []
    view.set_filter(FilterSpec(text="colour:red"))  # never sent by the bar; applies nothing
    assert view.rows.size == 5


def test_column_value_lists_exclusions_ranges_and_ids(view):
    assert view.value_counts("missile_class") == [("ICBM", 3), ("IRBM", 1), ("SRBM", 1)]
    assert ("", 1) in view.value_counts("missile_name")
    view.set_filter(FilterSpec(values=(("outcome", frozenset({"success", "failure"})),)))
    assert names(view) == ["Hwasong-14", "Hwasong-15", "KN-23"]
    view.set_filter(FilterSpec(excluded=(("launch_site", frozenset({"Hodo", "Sunan"})),)))
    assert names(view) == ["Hwasong-14", "Hwasong-15", "화성-17"]
    # a distance range 600–690 overlaps 650–700; events with no distance never match a range
    view.set_filter(FilterSpec(ranges=(("distance_km", 650.0, 940.0),)))
    assert names(view) == ["Hwasong-14", "KN-23"]
    view.set_filter(FilterSpec(ranges=(("distance_km", 1000.0, None),)))
    assert names(view) == ["화성-17"]
    view.set_filter(FilterSpec(values=(("leader_attended", frozenset({"yes"})),)))
    assert names(view) == ["화성-17"]
    ids = frozenset(view.frame["id"][:2])
    view.set_filter(FilterSpec(ids=ids, ids_label="from import batch 2"))
    assert set(view.visible_ids()) == ids


def test_every_event_field_has_a_column(view):
    shown = set(COLUMN_KEYS) | {"coordinates"}
    folded_in = {"date_precision", "distance_km_max", "apogee_km_max", "latitude", "longitude"}
    for f in schema.EVENT_FIELDS:
        assert f in shown or f in folded_in, f
    assert view.display("coordinates")[0] == "" or "," in view.display("coordinates")[0]
    assert view.display("leader_attended").tolist().count("yes") == 1


def test_date_range_problems_are_words_and_not_applied():
    assert date_range("2017", "2018-06") == ("2017-01-01", "2018-06-30", None)
    assert date_range("", "") == (None, None, None)
    lo, hi, problem = date_range("2017-13", "2018")
    assert (lo, hi) == (None, None)
    assert problem == "From: '2017-13' is not a date (YYYY, YYYY-MM or YYYY-MM-DD) — dates not applied"
    lo, hi, problem = date_range("2019", "2018")
    assert (lo, hi) == (None, None)
    assert problem == "the range ends (2018-12-31) before it starts (2019-01-01) — dates not applied"
