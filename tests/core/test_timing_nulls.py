"""Timing: the two null models, their calibration on clustered data, Holm, the rate ratio,
what counts (classes, failed launches, windows) and 'the test cannot tell'."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from nkbrief.analysis.timing import (holm, parse_classes, timing_analysis, verdict, window_spec,
                            windows_phrase)

YEARS = range(2010, 2020)


def frame(dates, cls="SRBM", outcome="success") -> pd.DataFrame:
    n = len(dates)
    return pd.DataFrame({"id": [f"e{i}" for i in range(n)], "date": list(dates), "date_precision": "day",
                         "missile_class": cls if isinstance(cls, list) else [cls] * n,
                         "outcome": outcome if isinstance(outcome, list) else [outcome] * n})


def summits() -> pd.DataFrame:
    rows = [{"id": f"s{y}{m}", "date": f"{y}-{m:02d}-{d:02d}", "end_date": None, "category": "summit",
             "title": f"Summit {y}-{m}"}
            for y in YEARS for m, d in ((2, 16), (5, 20), (8, 12), (11, 3))]
    rows += [{"id": f"x{y}", "date": f"{y}-03-07", "end_date": f"{y}-03-17", "category": "exercise",
              "title": f"Exercise {y}"} for y in YEARS]
    return pd.DataFrame(rows)


def campaigns(rng, n_campaigns: int = 3, length: int = 6) -> pd.DataFrame:
    """Clustered launches with no calendar effect: each year, a few campaigns of consecutive
    launch days, each starting on a uniformly random day (wrapping round the year)."""
    dates = set()
    for y in YEARS:
        n = (dt.date(y + 1, 1, 1) - dt.date(y, 1, 1)).days
        for s in rng.integers(0, n, n_campaigns):
            for j in range(length):
                dates.add((dt.date(y, 1, 1) + dt.timedelta(days=int((s + j) % n))).isoformat())
    return frame(sorted(dates))


def run(ev, cal, cats=("summit",), **kw):
    kw = {"window": 14, "seed": 1, "simulations": 100, "per_launch": False,
          "observed_until": "2019-12-31"} | kw
    return timing_analysis(ev, cal, list(cats), **kw)


def test_shift_null_is_calibrated_and_the_shuffle_is_not_on_clustered_data():
    """400 clustered datasets with no calendar effect. Tolerance: the share of p <= 0.05 is
    0.05 +/- 0.035 (about 3 binomial standard deviations for 400 datasets) for the shift
    null; the per-year shuffle, which scatters each campaign's days, rejects far more often."""
    cal = summits()
    rng = np.random.default_rng(2026)
    p = {"shift": [], "shuffle": []}
    p_mc = []
    for i in range(400):
        ev = campaigns(rng)
        for null in p:
            res = run(ev, cal, null=null, seed=i)
            p[null].append(res["p_value_exact"])
            if null == "shift":
                p_mc.append(res["p_value"])
    shift, shuffle, p_mc = (np.array(x) for x in (p["shift"], p["shuffle"], p_mc))
    assert 0.015 <= np.mean(shift <= 0.05) <= 0.085
    assert 0.05 <= np.mean(shift <= 0.10) <= 0.15
    assert 0.015 <= np.mean(p_mc <= 0.05) <= 0.085  # what the app prints (100 simulations here)
    assert np.mean(shuffle <= 0.05) >= 0.15  # anti-conservative: three times the nominal rate
    assert np.mean(shuffle <= 0.05) > np.mean(shift <= 0.05) + 0.08


def test_a_planted_calendar_effect_is_detected_after_adjustment():
    cal = summits()
    rng = np.random.default_rng(5)
    dates = set(campaigns(rng, n_campaigns=2)["date"])
    for d in cal[cal["category"] == "summit"]["date"]:  # a 3-day campaign 2..10 days before each summit
        back = int(rng.integers(4, 11))
        for j in range(3):
            dates.add((dt.date.fromisoformat(d) - dt.timedelta(days=back - j)).isoformat())
    res = run(frame(sorted(dates)), cal, cats=("summit", "exercise"), simulations=2000)
    by = {t["label"]: t for t in res["tests"]}
    assert res["family_size"] == 3 and list(by) == ["Summit", "US–ROK exercise", "Any of them"]
    assert by["Summit"]["p_adjusted"] < 0.05 and by["Summit"]["ratio"] > 2
    assert by["Summit"]["rate_ratio_interval"][0] > 1
    assert "more than random timing would usually produce (adjusted p" in by["Summit"]["verdict"]
    assert by["US–ROK exercise"]["p_adjusted"] > 0.05
    assert "consistent with random timing" in by["US–ROK exercise"]["verdict"]
    assert "Summit alone:" in res["summary"]


def test_holm_against_a_hand_calculation():
    # sorted: 0.005*4 = 0.02; 0.01*3 = 0.03; 0.03*2 = 0.06; 0.04*1 = 0.04 -> raised to 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None, 0.2]) == [pytest.approx(0.5), None, pytest.approx(0.4)]
    assert holm([0.7, 0.6]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_the_app_adjusts_its_own_p_values_with_holm():
    cal = summits()
    res = run(campaigns(np.random.default_rng(3)), cal, cats=("summit", "exercise"), simulations=500)
    raw = [t["p_value"] for t in res["tests"]]
    assert [t["p_adjusted"] for t in res["tests"]] == pytest.approx(holm(raw))
    assert res["p_adjusted"] == res["tests"][-1]["p_adjusted"] and res["p_value"] == raw[-1]


def test_shift_null_exact_distribution_against_brute_force():
    """One short year, three launch days: every circular shift enumerated by hand."""
    cal = pd.DataFrame([{"id": x, "date": d, "end_date": None, "category": "summit", "title": x}
                        for x, d in (("a", "2015-01-20"), ("b", "2015-02-10"))])
    ev = frame(["2015-01-10", "2015-01-11", "2015-01-30"])
    res = timing_analysis(ev, cal, ["summit"], window=5, seed=1, simulations=500, per_launch=False,
                          date_from="2015-01-01", observed_until="2015-02-28")
    days = 59
    window = {d for s in (19, 40) for d in range(s - 5, s)}  # 0-based day numbers, 1..5 days before
    launches = [9, 10, 29]
    counts = [sum((x + s) % days in window for x in launches) for s in range(days)]
    observed = counts[0]
    assert res["within_window"] == observed
    assert res["p_value_exact"] == pytest.approx(sum(c >= observed for c in counts) / days)
    assert res["expected"] == pytest.approx(np.mean(counts)) == pytest.approx(3 * len(window) / days)
    shuffle = timing_analysis(ev, cal, ["summit"], window=5, seed=1, simulations=500, per_launch=False,
                              date_from="2015-01-01", observed_until="2015-02-28", null="shuffle")
    combos = list(itertools.combinations(range(days), 3))
    assert shuffle["p_value_exact"] == pytest.approx(
        sum(sum(x in window for x in c) >= observed for c in combos) / len(combos))
    assert shuffle["expected"] == pytest.approx(res["expected"])


def test_rate_ratio_interval_comes_from_the_null_distribution():
    cal = summits()
    res = run(campaigns(np.random.default_rng(9)), cal, simulations=200)
    lo, hi = res["null_interval"]
    e, x = res["expected"], res["within_window"]
    assert res["ratio"] == pytest.approx(x / e)
    assert res["rate_ratio_interval"] == pytest.approx([max(0, (x - (hi - e)) / e), (x + (e - lo)) / e])
    # the interval holds 1 exactly when the observed count is inside the null's central 95%
    a, b = res["rate_ratio_interval"]
    assert (a <= 1 <= b) == (lo <= x <= hi)


def test_null_model_is_named_and_explained_and_chosen():
    cal = summits()
    ev = campaigns(np.random.default_rng(1))
    res = run(ev, cal)
    assert res["null"] == "shift" and res["null_model"].startswith("Circular shift within each year:")
    assert res["null_model"].count(". ") == 0  # one sentence
    res = run(ev, cal, null="shuffle")
    assert res["null"] == "shuffle" and res["null_model"].startswith("Per-year shuffle:")
    with pytest.raises(ValueError, match=r"^null 'block' must be one of shift, shuffle"):
        run(ev, cal, null="block")


def test_ballistic_classes_by_default_satellites_a_choice_failed_count_unless_excluded():
    dates = ["2016-02-01", "2016-02-03", "2016-02-05", "2016-02-07", "2016-02-09"]
    ev = frame(dates, cls=["SRBM", "cruise", "SLV", "ICBM", "MLRS"],
               outcome=["success", "success", "success", "failure", "success"])
    res = run(ev, summits())
    assert res["classes"] == ["SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "HGV"]
    assert res["events"] == 2 and res["left_out"] == {"class": 3, "failed": 0, "date_precision": 0}
    assert res["left_out_by_class"] == {"MLRS": 1, "SLV": 1, "cruise": 1}
    assert res["counted"] == "ballistic launches (SRBM, MRBM, IRBM, ICBM, SLBM, HGV), failed ones included"
    res = run(ev, summits(), classes=parse_classes(["ballistic,satellite"]), include_failed=False)
    assert res["events"] == 2 and res["left_out"]["failed"] == 1  # SRBM and SLV; the failed ICBM is out
    assert "satellite launches (SLV)" in res["counted"] and res["counted"].endswith("failed ones left out")
    assert run(ev, summits(), classes=None)["events"] == 5
    assert parse_classes(None) == ["SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "HGV"]
    assert parse_classes(["all"]) is None and parse_classes(["srbm", "SLV"]) == ["SRBM", "SLV"]
    with pytest.raises(ValueError, match=r"^class 'rocket' is not a missile class"):
        parse_classes(["rocket"])
    with pytest.raises(ValueError, match=r"^class 'rocket' is not a missile class"):
        run(ev, summits(), classes=["SRBM", "rocket"])


def test_windows_before_during_around_and_the_exercise_default():
    cal = pd.DataFrame([{"id": "fs", "date": "2026-03-09", "end_date": "2026-03-19", "category": "exercise",
                         "title": "Freedom Shield 2026"}])
    ev = frame(["2026-03-14", "2026-03-04", "2026-02-20", "2026-03-25"])
    kw = {"seed": 1, "simulations": 50, "per_launch": False}
    # default for exercises: during, or within 7 days before
    res = timing_analysis(ev, cal, ["exercise"], **kw)
    assert res["windows"]["exercise"] == {"mode": "around", "days": 7,
                                          "phrase": "during or within 7 days before"}
    assert res["within_window"] == 2  # 03-14 during, 03-04 five days before
    assert timing_analysis(ev, cal, ["exercise"], when="before", **kw)["within_window"] == 2  # 03-04, 02-20
    assert timing_analysis(ev, cal, ["exercise"], when="during", **kw)["within_window"] == 1
    assert timing_analysis(ev, cal, ["exercise"], when="around", window=30, **kw)["within_window"] == 3
    assert window_spec("summit") == {"mode": "before", "days": 30, "phrase": "within 30 days before"}
    assert window_spec("exercise", when="before")["days"] == 30
    w = {c: window_spec(c) for c in ("summit", "exercise")}
    assert windows_phrase(w, ["summit", "exercise"]) == (
        "within 30 days before a summit, or during or within 7 days before a US–ROK exercise")


def test_fewer_than_five_entries_cannot_tell_and_rarely_needs_adjusted_p_below_005():
    cal = pd.DataFrame([{"id": "c9", "date": "2026-02-19", "end_date": "2026-02-25",
                         "category": "party_congress", "title": "9th Party Congress"}])
    res = timing_analysis(frame(["2026-01-27", "2026-01-28", "2026-05-01"]), cal, ["party_congress"],
                          seed=1, simulations=100)
    assert res["entries_in_period"] == 1 and res["can_tell"] is False
    assert ("The test cannot tell: only 1 calendar entry of this kind falls in the analysed period"
            in res["summary"])
    assert "rarely" not in res["summary"]
    base = {"expected": 3.0, "entries_in_period": 12, "p_value": 0.004}
    assert verdict(base | {"p_adjusted": 0.044}, 10).startswith(
        "That is more than random timing would usually produce (adjusted p = 0.04)")
    text = verdict(base | {"p_adjusted": 0.08}, 10)
    assert text.startswith("That is consistent with random timing (adjusted p = 0.08).")
    assert "p = 0.004 does not survive the correction for 10 tests" in text and "rarely" not in text


def test_month_and_year_precision_are_left_out_with_a_count():
    ev = frame(["2016-02-01", "2016-03-01", "2016-01-01"])
    ev["date_precision"] = ["day", "month", "year"]
    res = run(ev, summits())
    assert res["events"] == 1 and res["left_out"]["date_precision"] == 2
    assert "2 launches known only to the month or year left out" in res["summary"]
