"""Timing analysis: day counts, the Monte Carlo test, its calibration, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nkbrief.model import schema
from nkbrief.cli import main
from nkbrief.analysis.context import nearest_entries
from nkbrief.store.dataset import load_bundled_calendar
from nkbrief.store import Store
from nkbrief.analysis.timing import (
    category_phrase,
    parse_categories,
    per_launch_frame,
    timing_analysis,
    timing_sheet_rows,
    timing_sheet_sections,
)

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")

REPO = Path(__file__).resolve().parents[2]

CAL = pd.DataFrame([
    {"id": "lx", "date": "2026-01-05", "end_date": None, "category": "summit", "title": "Lee–Xi summit"},
    {"id": "c9", "date": "2026-02-19", "end_date": "2026-02-25", "category": "party_congress",
     "title": "9th Party Congress"},
    {"id": "fs", "date": "2026-03-09", "end_date": "2026-03-19", "category": "exercise",
     "title": "Freedom Shield 2026"},
])


def events(dates, precision=None, cls="SRBM") -> pd.DataFrame:
    return pd.DataFrame({"id": [f"e{i}" for i in range(len(dates))], "date": list(dates),
                         "date_precision": precision or ["day"] * len(dates),
                         "missile_class": [cls] * len(dates)})


def by_id(result) -> dict:
    return {r["id"]: r for r in result["per_launch"]}


# ------------------------------------------------------------------ day counts
def test_exact_day_counts_on_a_small_calendar():
    ev = events(["2026-01-27", "2026-01-04"])
    res = timing_analysis(ev, CAL, ["party_congress"], seed=1, simulations=100)
    nxt = by_id(res)["e0"]["next"]
    assert (nxt["title"], nxt["date"], nxt["days"]) == ("9th Party Congress", "2026-02-19", 23)
    res = timing_analysis(ev, CAL, ["summit"], seed=1, simulations=100)
    nxt = by_id(res)["e1"]["next"]
    assert (nxt["title"], nxt["date"], nxt["days"]) == ("Lee–Xi summit", "2026-01-05", 1)
    assert nxt["phrase"] == "1 day before Lee–Xi summit (on 2026-01-05)"
    prev = by_id(res)["e0"]["previous"]
    assert (prev["title"], prev["days"]) == ("Lee–Xi summit", 22)  # days since, positive

    frame = per_launch_frame(ev, CAL).set_index("id")
    assert frame.loc["e0", "next_party_congress"] == 23 and frame.loc["e1", "next_summit"] == 1
    assert frame.loc["e0", "since_summit"] == 22 and pd.isna(frame.loc["e1", "since_summit"])
    assert frame.loc["e1", "nearest_id"] == "lx" and frame.loc["e1", "nearest_days"] == 1
    assert frame.loc["e0", "nearest_days"] == -22  # 22 days after the summit beats 23 before


def test_exact_day_counts_on_the_bundled_calendar():
    cal = pd.DataFrame(load_bundled_calendar(REPO / "resources" / "calendar.csv"))
    ev = events(["2026-01-27", "2026-01-04"])
    res = by_id(timing_analysis(ev, cal, ["party_congress", "summit"], seed=1, simulations=100))
    assert res["e0"]["next"]["days"] == 23 and res["e0"]["next"]["date"] == "2026-02-19"
    assert "9th Party Congress" in res["e0"]["next"]["title"]
    assert res["e1"]["next"]["days"] == 1 and res["e1"]["next"]["date"] == "2026-01-05"
    assert res["e1"]["next"]["category"] == "summit"
    assert res["e0"]["within_window"] and res["e1"]["within_window"]


@pytest.mark.skipif(not (REPO / "resources" / "events.json").exists(),
                    reason="the bundled dataset resources/events.json has not landed yet")
def test_exact_day_counts_on_the_bundled_dataset(seeded_store):
    evs = seeded_store.events_frame(date_from="2026-01-01", date_to="2026-01-31")
    res = timing_analysis(evs, seeded_store.calendar_frame(), ["party_congress", "summit"], seed=1,
                          simulations=200)
    by_date = {r["date"]: r for r in res["per_launch"]}
    assert by_date["2026-01-27"]["next"]["days"] == 23
    assert by_date["2026-01-27"]["next"]["category"] == "party_congress"
    assert by_date["2026-01-04"]["next"]["days"] == 1
    assert by_date["2026-01-04"]["next"]["date"] == "2026-01-05"


def test_vectorised_lookups_agree_with_nearest_entries():
    """Every launch's next/previous entry is the one context.nearest_entries finds."""
    cal = pd.DataFrame(load_bundled_calendar(REPO / "resources" / "calendar.csv"))
    rng = np.random.default_rng(5)
    days = rng.integers(dt.date(1985, 1, 1).toordinal(), dt.date(2026, 8, 1).toordinal(), 300)
    dates = sorted({dt.date.fromordinal(int(d)).isoformat() for d in days} | set(cal["date"][:40]))
    ev = events(dates)
    for cats in (None, ["exercise"], ["summit", "party_congress"]):
        res = timing_analysis(ev, cal, cats, seed=1, simulations=10)
        for r in res["per_launch"]:
            ctx = nearest_entries(r["date"], cal, categories=parse_categories(cats))
            want_next = (ctx["next"].id, ctx["next"].days) if ctx["next"] else None
            got_next = (r["next"]["id"], r["next"]["days"]) if r["next"] else None
            assert got_next == want_next, r["date"]
            want_prev = (ctx["previous"].id, -ctx["previous"].days) if ctx["previous"] else None
            got_prev = (r["previous"]["id"], r["previous"]["days"]) if r["previous"] else None
            assert got_prev == want_prev, r["date"]
            assert [d["id"] for d in r["during"]] == [d.id for d in ctx["during"]]


def test_window_edges_and_launch_day_counting():
    # congress opens 02-19: 01-20 is 30 days before (in), 01-19 is 31 (out), 02-19 is the day (out)
    ev = events(["2026-01-19", "2026-01-20", "2026-01-20", "2026-02-18", "2026-02-19", "2026-02-20"])
    res = timing_analysis(ev, CAL, ["party_congress"], window=30, seed=3, simulations=200)
    within = {r["id"]: r["within_window"] for r in res["per_launch"]}
    assert within == {"e0": False, "e1": True, "e2": True, "e3": True, "e4": False, "e5": False}
    assert res["events"] == 6 and res["launches"] == 5  # two events on 01-20 are one launch day
    assert res["within_window"] == 2 and res["within_window_events"] == 3
    assert res["unit"] == "launch day"


def test_expected_count_matches_a_brute_force_count_with_nearest_entries():
    ev = events(["2026-01-04", "2026-01-27", "2026-01-27", "2026-06-01"])
    res = timing_analysis(ev, CAL, ["summit", "party_congress"], seed=1, simulations=100)
    assert (res["date_from"], res["date_to"]) == ("2026-01-01", "2026-06-01")  # ends at the data's end
    period = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(152)]
    in_window = 0
    for d in period:
        nxt = nearest_entries(d.isoformat(), CAL, categories=["summit", "party_congress"])["next"]
        in_window += nxt is not None and 1 <= nxt.days <= 30
    launches = 3
    assert res["years"][0]["window_days_in_year"] == in_window
    assert res["expected"] == pytest.approx(launches * in_window / len(period))
    assert res["ratio"] == pytest.approx(2 / res["expected"])
    assert res["excess"] == pytest.approx(2 - res["expected"])
    assert res["summary"].startswith(
        f"2 of 3 launch days in 2026 fell within 30 days before a party congress or summit; "
        f"random timing (circular shift within each year) would give about {res['expected']:.1f} "
        f"(rate ratio {res['ratio']:.1f}, 95% interval ")


def test_month_precision_launches_are_left_out_and_listed():
    ev = events(["2026-01-27", "2026-03-01", "2025-01-01"], ["day", "month", "year"])
    res = timing_analysis(ev, CAL, None, seed=1, simulations=50)
    assert [r["id"] for r in res["per_launch"]] == ["e0"]
    assert {e["id"]: e["reason"] for e in res["excluded"]} == {
        "e1": "date known only to the month", "e2": "date known only to the year"}
    assert res["launches"] == 1


def test_histogram_adds_up():
    cal = pd.DataFrame(load_bundled_calendar(REPO / "resources" / "calendar.csv"))
    rng = np.random.default_rng(11)
    dates = sorted({(dt.date(2016, 1, 1) + dt.timedelta(days=int(x))).isoformat()
                    for x in rng.integers(0, 3000, 120)})
    res = timing_analysis(events(dates), cal, ["exercise"], when="before", seed=1, simulations=100)
    h = res["histogram"]
    assert sum(h["observed"]) + h["beyond"] + h["none"] == res["launches"]
    assert sum(h["expected"]) + h["beyond_expected"] + h["none_expected"] == pytest.approx(res["launches"])
    edges = h["edges"]
    for r in res["per_launch"]:
        d = r["next"]["days"] if r["next"] else None
        if d is not None and d <= edges[-1]:
            assert any(a < d <= b for a, b in zip(edges[:-1], edges[1:]))
    # the window ends on a bin edge, so the bins inside it hold exactly the launch days within it
    assert h["bin_days"] == 6 and 30 in edges
    inside = sum(o for b, o in zip(edges[1:], h["observed"]) if b <= 30)
    assert inside == res["within_window"]
    for window, width in ((28, 7), (30, 6), (45, 5), (31, 7), (3, 3), (13, 1)):
        assert timing_analysis(events(dates), cal, ["exercise"], window=window, seed=1, simulations=10,
                               per_launch=False)["histogram"]["bin_days"] == width


# ------------------------------------------------------------------ the test itself
YEARS = (2020, 2021, 2022, 2023)


def synthetic_calendar() -> pd.DataFrame:
    rows = []
    for y in YEARS:
        for m, d in ((2, 10), (4, 15), (6, 25), (8, 15), (10, 10), (12, 1)):
            rows.append({"id": f"s{y}-{m}", "date": f"{y}-{m:02d}-{d:02d}", "end_date": None,
                         "category": "summit", "title": f"Summit {y}-{m}"})
        rows.append({"id": f"x{y}", "date": f"{y}-03-01", "end_date": f"{y}-03-20", "category": "exercise",
                     "title": f"Exercise {y}"})
    return pd.DataFrame(rows)


def random_launches(rng, per_year: int = 20) -> pd.DataFrame:
    """Launch days placed uniformly at random within each year (the null, as data)."""
    dates = []
    for y in YEARS:
        n = (dt.date(y + 1, 1, 1) - dt.date(y, 1, 1)).days
        for k in rng.choice(n, per_year, replace=False):
            dates.append((dt.date(y, 1, 1) + dt.timedelta(days=int(k))).isoformat())
    return events(sorted(dates))


def test_launches_placed_just_before_entries_give_a_small_p_value():
    cal = synthetic_calendar()
    rng = np.random.default_rng(7)
    dates = []
    for d in cal[cal["category"] == "summit"]["date"]:
        for back in rng.choice(np.arange(1, 15), 2, replace=False):  # 1..14 days before each summit
            dates.append((dt.date.fromisoformat(d) - dt.timedelta(days=int(back))).isoformat())
    base = random_launches(np.random.default_rng(8), per_year=8)
    ev = events(sorted(set(dates) | set(base["date"])))
    res = timing_analysis(ev, cal, ["summit"], window=30, seed=1, simulations=10_000,
                          observed_until="2023-12-31")
    assert res["p_value"] < 0.001 and res["p_value_exact"] < 0.001
    assert res["ratio"] > 1.5
    assert "rarely" in res["summary"]
    # the exercise was not targeted: no evidence there
    res_x = timing_analysis(ev, cal, ["exercise"], window=30, seed=1, simulations=2000,
                            observed_until="2023-12-31")
    assert res_x["p_value"] > 0.05


def test_launches_placed_at_random_give_a_p_value_that_is_not_small():
    cal = synthetic_calendar()
    ev = random_launches(np.random.default_rng(2026))
    res = timing_analysis(ev, cal, ["summit"], window=30, seed=5, simulations=5000,
                          observed_until="2023-12-31")
    assert res["p_value"] > 0.05
    assert 0.5 < res["ratio"] < 1.6


def test_false_positive_rate_is_near_nominal():
    """1,000 datasets drawn from the null, 500 simulations each: reject at 0.05 about 5% of
    the time (a discrete statistic and the +1 correction make it a little conservative)."""
    cal = synthetic_calendar()
    rng = np.random.default_rng(12345)
    p_mc, p_exact = [], []
    for i in range(1000):
        res = timing_analysis(random_launches(rng), cal, ["summit"], window=30, seed=i,
                              simulations=500, observed_until="2023-12-31", per_launch=False)
        p_mc.append(res["p_value"])
        p_exact.append(res["p_value_exact"])
    p_mc, p_exact = np.array(p_mc), np.array(p_exact)
    assert 0.02 <= np.mean(p_mc <= 0.05) <= 0.09
    assert 0.02 <= np.mean(p_exact <= 0.05) <= 0.09
    assert 0.06 <= np.mean(p_mc <= 0.10) <= 0.14
    # the Monte Carlo p-value estimates the exact one (standard error at most 0.023 here)
    assert np.max(np.abs(p_mc - p_exact)) < 0.1


def test_monte_carlo_converges_to_the_exact_p_value():
    cal = synthetic_calendar()
    ev = random_launches(np.random.default_rng(99))
    res = timing_analysis(ev, cal, ["summit", "exercise"], seed=4, simulations=40_000,
                          observed_until="2023-12-31", per_launch=False)
    se = np.sqrt(res["p_value_exact"] * (1 - res["p_value_exact"]) / 40_000)
    assert abs(res["p_value"] - res["p_value_exact"]) < 5 * se + 1e-4
    lo, hi = res["null_interval"]
    assert lo <= res["expected"] <= hi


def test_same_seed_same_result_and_the_seed_is_reported():
    cal = synthetic_calendar()
    ev = random_launches(np.random.default_rng(3))
    a = timing_analysis(ev, cal, ["summit"], seed=42, simulations=300, observed_until="2023-12-31")
    b = timing_analysis(ev, cal, ["summit"], seed=42, simulations=300, observed_until="2023-12-31")
    assert a == b and a["seed"] == 42 and a["simulations"] == 300
    fresh = timing_analysis(ev, cal, ["summit"], simulations=300, observed_until="2023-12-31")
    again = timing_analysis(ev, cal, ["summit"], seed=fresh["seed"], simulations=300,
                            observed_until="2023-12-31")
    assert isinstance(fresh["seed"], int) and fresh == again
    p_values = {timing_analysis(ev, cal, ["summit"], seed=s, simulations=300,
                                observed_until="2023-12-31")["p_value"] for s in range(8)}
    assert len(p_values) > 1  # the seed really drives the simulation


def test_period_bounds_and_partial_years():
    ev = events(["2025-12-30", "2026-01-04", "2026-01-27"])
    res = timing_analysis(ev, CAL, ["summit"], date_from="2026-01-01", date_to="2026-01-31",
                          observed_until="2026-08-20", seed=1, simulations=100)
    assert res["launches"] == 2 and [y["days"] for y in res["years"]] == [31]
    res = timing_analysis(ev, CAL, ["summit"], observed_until="2026-08-20", seed=1, simulations=100)
    assert [(y["year"], y["period_from"], y["period_to"]) for y in res["years"]] == [
        (2025, "2025-01-01", "2025-12-31"), (2026, "2026-01-01", "2026-08-20")]
    assert res["summary"].startswith("2 of 3 launch days in 2025–2026 fell within")


def test_empty_scope_and_no_entries():
    res = timing_analysis(events([]), CAL, ["summit"], seed=1)
    assert res["launches"] == 0 and res["p_value"] is None and "nothing to test" in res["summary"]
    res = timing_analysis(events(["2026-01-04"]), CAL, ["nuclear_test"], seed=1, simulations=100)
    assert res["expected"] == 0 and res["within_window"] == 0 and res["p_value"] == 1.0
    assert res["ratio"] is None and "no entries" in res["summary"]


def test_categories_and_bad_arguments():
    assert parse_categories(["Summit", "party congress, exercise"]) == [
        "party_congress", "summit", "exercise"]
    assert parse_categories(None) == list(schema.CALENDAR_CATEGORIES)
    assert category_phrase(["summit", "party_congress"]) == "a party congress or summit"
    assert category_phrase(["inauguration"]) == "an inauguration"
    assert category_phrase(["un_resolution", "spa_session"]) == "an SPA session or UN resolution"
    assert category_phrase(["un_resolution"]) == "a UN resolution"
    assert category_phrase(["exercise"]) == "a US–ROK exercise"
    assert category_phrase(["other"]) == "an other calendar entry"
    with pytest.raises(ValueError, match=r"^category 'parade' is not a calendar category \(party_congress"):
        parse_categories(["parade"])
    with pytest.raises(ValueError, match=r"^window 0 must be a whole number from 1 to 3,650"):
        timing_analysis(events(["2026-01-04"]), CAL, window=0)
    with pytest.raises(ValueError, match=r"^date_from '2026-02-30' is not a date"):
        timing_analysis(events(["2026-01-04"]), CAL, date_from="2026-02-30")


def test_sheet_rows_carry_the_test_the_table_and_the_assumptions():
    ev = events(["2026-01-04", "2026-01-27", "2026-06-01"])
    res = timing_analysis(ev, CAL, ["summit"], seed=9, simulations=100)
    secs = {s["title"]: s for s in timing_sheet_sections(res)}
    pairs = dict(secs["Timing analysis"]["rows"])
    assert pairs["Seed"] == 9 and pairs["p-value (Monte Carlo)"] == res["p_value"]
    assert pairs["Period from"] == dt.date(2026, 1, 1)
    per = secs["Per launch"]["rows"]
    assert [r[0] for r in per] == [dt.date(2026, 1, 4), dt.date(2026, 1, 27), dt.date(2026, 6, 1)]
    assert per[0][3] == "yes" and per[0][6] == 1
    assert secs["Days to the next entry"]["chart"] is True
    assert any("Holm-adjusted" in r[0] for r in secs["Assumptions and limitations"]["rows"])
    assert pairs["p-value, Holm-adjusted"] == res["p_adjusted"]
    assert pairs["Null model"].startswith("shift: Circular shift within each year")
    assert pairs["Launches counted"] == (
        "ballistic launches (SRBM, MRBM, IRBM, ICBM, SLBM, HGV), failed ones included")
    tests = secs["Tests (Holm-adjusted together)"]["rows"]
    assert [t[0] for t in tests] == ["Summit"] and tests[0][7] == res["p_adjusted"]
    assert tests[0][3] == res["verdict"] and tests[0][6] == res["p_value"]
    rows = timing_sheet_rows(res)
    assert rows[0] == ["Timing analysis"] and [] in rows


# ------------------------------------------------------------------ CLI
@pytest.fixture
def timing_db(tmp_path):
    path = tmp_path / "t.sqlite3"
    st = Store.open(path, seed=False)
    b = st.new_batch("manual")
    for rec in CAL.to_dict("records"):
        end = rec["end_date"] if isinstance(rec["end_date"], str) else None
        st.insert_calendar_entry(rec | {"end_date": end, "description": "", "sources": []}, b)
    for i, (d, prec) in enumerate([("2026-01-04", "day"), ("2026-01-27", "day"), ("2026-01-27", "day"),
                                   ("2026-03-14", "day"), ("2026-08-12", "day"), ("1990-05-01", "month")]):
        ev = schema.empty_event() | {"id": f"e{i}", "date": d, "date_precision": prec,
                                     "missile_class": "SRBM"}
        st.insert_event(ev, b)
    st.close()
    return path


def test_cli_timing_json_contract(timing_db, capsys):
    argv = ["timing", "--db", str(timing_db), "--category", "summit", "--category", "party_congress",
            "--window", "30", "--from", "2026-01-01", "--to", "2026-12-31", "--seed", "7", "--json"]
    assert main(argv) == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("category", "window_days", "launches", "within_window", "expected", "p_value", "seed",
                "per_launch"):
        assert key in res
    assert res["category"] == ["party_congress", "summit"] and res["window_days"] == 30
    assert res["seed"] == 7 and res["launches"] == 4 and res["within_window"] == 2
    assert res["date_to"] == "2026-08-12"  # the data's last day, not the end of --to
    first = res["per_launch"][0]
    assert first["id"] == "e0" and first["date"] == "2026-01-04"
    assert {k: first["next"][k] for k in ("title", "date", "days")} == {
        "title": "Lee–Xi summit", "date": "2026-01-05", "days": 1}
    assert first["previous"] is None
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == res  # same seed, same output


def test_cli_timing_text(timing_db, capsys):
    assert main(["timing", "--db", str(timing_db), "--category", "congress", "--seed", "3",
                 "--simulations", "2000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 of 4 launch days in 2026 fell within 30 days before a party congress;")
    assert "repeat with   --seed 3" in out and "2,000 simulations" in out
    assert "1 known only to the month or year" in out
    assert "null model    shift: Circular shift within each year" in out
    assert "adjusted p    " in out and "The test cannot tell: only 1 calendar entry" in out


@pytest.mark.parametrize("argv, message", [
    (["timing", "--category", "parade"], "nkbrief: --category 'parade' is not a calendar category ("),
    (["timing", "--window", "0"], "nkbrief: --window 0 must be from 1 to 3,650 days\n"),
    (["timing", "--class", "rocket"], "nkbrief: --class 'rocket' is not a missile class ("),
    (["timing", "--simulations", "0"], "nkbrief: --simulations 0 must be from 1 to 1,000,000\n"),
    (["timing", "--from", "2026-02-30"], "nkbrief: --from '2026-02-30' is not a date (use YYYY-MM-DD)\n"),
    (["timing", "--from", "2026-05-01", "--to", "2026-01-01"], "nkbrief: --to '2026-01-01' is before --from"),
])
def test_cli_timing_errors_are_one_line(timing_db, capsys, argv, message):
    assert main([*argv, "--db", str(timing_db)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err
