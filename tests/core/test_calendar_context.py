"""One calendar context everywhere: the core function, `show --json`, the pack's Context &
timing sheet and its timeline window (the detail pane and the tooltip: tests/ui)."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from nkbrief.briefing.pack import PackOptions, build_pack
from nkbrief.cli import main
from nkbrief.analysis.context import calendar_context, calendar_contexts, context_reach
from nkbrief.analysis.timing import timing_analysis

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")

SEED = "2026-01-27-srbm-north-of-pyongyang"
HGV = "2026-01-04-hgv-ryokpo"
CONGRESS = "23 days before the 9th Party Congress (opened 2026-02-19)"
SUMMIT = "1 day before Beijing summit (Lee Jae-myung–Xi Jinping) (on 2026-01-05)"


def show_context(store, event_id, capsys) -> list[dict]:
    assert main(["show", event_id, "--json", "--db", store.target]) == 0
    return json.loads(capsys.readouterr().out)["calendar_context"]


def pack_context(store, tmp_path, ids) -> dict[str, list[str]]:
    """The Context & timing sheet's context lines per event id (both printed columns)."""
    out = build_pack(store, ids, PackOptions(output=tmp_path / "p.xlsx", sections=["context"]))
    ws = openpyxl.load_workbook(out)["Context & timing"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(r for r in rows if r and r[0] == "Date (KST)")
    i_ctx = header.index("Calendar context (60 days either side)")
    i_other = header.index("Anniversaries and other entries")
    i_id = header.index("Event ID")
    got = {}
    for r in rows[rows.index(header) + 1:]:
        if r[i_id] in ids and r[i_id] not in got:  # the launch's row, not a continuation row
            got[r[i_id]] = [x for c in (r[i_ctx], r[i_other]) if c for x in c.split("\n")]
    return got


def test_the_seed_launch_names_the_congress_although_an_anniversary_is_nearer(seeded_store):
    cal = seeded_store.calendar_frame()
    items = calendar_context("2026-01-27", cal)
    phrases = [n.phrase() for n in items]
    assert phrases[0] == CONGRESS  # the most telling category first
    assert "12 days before KPA founding day (78th) (on 2026-02-08)" in phrases
    assert "22 days after Beijing summit (Lee Jae-myung–Xi Jinping) (on 2026-01-05)" in phrases
    assert SUMMIT in [n.phrase() for n in calendar_context("2026-01-04", cal)]
    # month or year precision: no day counts at all
    assert calendar_context("1984-09-01", cal, "month") == []
    assert calendar_contexts(["2026-01-27", "2026-01-27"], cal, ["day", "year"])[1] == []
    assert context_reach([items]) == "2026-02-25"  # the congress's last day


@pytest.mark.parametrize("event_id, needle", [(SEED, CONGRESS), (HGV, SUMMIT)])
def test_show_json_and_the_pack_sheet_give_the_same_context(seeded_store, tmp_path, capsys, event_id,
                                                            needle):
    shown = show_context(seeded_store, event_id, capsys)
    phrases = [c["phrase"] for c in shown]
    assert needle in phrases
    ev = seeded_store.get_event(event_id)
    core = [n.phrase() for n in calendar_context(ev["date"], seeded_store.calendar_frame())]
    assert phrases == core
    assert pack_context(seeded_store, tmp_path, [SEED, HGV])[event_id] == phrases
    timing = timing_analysis(seeded_store.events_frame(), seeded_store.calendar_frame(), ["summit"],
                             seed=1, simulations=10)
    assert next(p for p in timing["per_launch"] if p["id"] == event_id)["calendar_context"] == phrases
    first = shown[0]
    if event_id == SEED:
        assert {k: first[k] for k in ("category", "relation", "days_before", "days_after", "title")} == {
            "category": "party_congress", "relation": "before", "days_before": 23, "days_after": None,
            "title": "9th Party Congress"}


def test_show_json_for_a_month_precision_launch_has_no_day_counts(seeded_store, capsys):
    ev = seeded_store.events_frame()
    month = ev[ev["date_precision"] == "month"].iloc[0]
    assert show_context(seeded_store, month["id"], capsys) == []


def test_the_seed_only_pack_reaches_the_congress(seeded_store, tmp_path):
    out = build_pack(seeded_store, [SEED], PackOptions(output=tmp_path / "p.xlsx",
                                                       sections=["summary", "timeline", "context"]))
    wb = openpyxl.load_workbook(out)
    titles = [r[3] for r in wb["Timeline"].iter_rows(values_only=True) if len(r) > 3]
    assert "9th Party Congress" in titles
    sheet = wb["Context & timing"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(r for r in rows if r and r[0] == "Date (KST)")
    row = next(r for r in rows if r and r[header.index("Event ID")] == SEED)
    assert row[header.index("Days to the next congress or summit")] == 23
    assert row[header.index("Next congress or summit")] == "9th Party Congress"
    # the Summary chart's axis too
    chart = wb["Summary"]._charts[-1]
    assert chart.x_axis.scaling.max >= (pd.Timestamp("2026-02-25") - pd.Timestamp("1899-12-30")).days


def test_the_pack_timeline_picture_reaches_a_given_day():
    from nkbrief.briefing.timeline_png import render_timeline

    ev = pd.DataFrame({"date": ["2026-01-27"], "date_precision": ["day"], "missile_class": ["SRBM"],
                       "distance_km": [350.0], "distance_km_max": [None]})
    cal = pd.DataFrame([{"id": "c9", "date": "2026-02-19", "end_date": "2026-02-25",
                         "category": "party_congress", "title": "9th Party Congress"}])
    a = render_timeline(ev, cal, width=800, height=400)
    b = render_timeline(ev, cal, width=800, height=400, until="2026-02-25")
    assert a.tobytes() != b.tobytes()  # the axis now runs on to the congress
