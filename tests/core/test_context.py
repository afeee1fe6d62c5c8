"""Day counts against the political calendar."""

import pandas as pd

from nkbrief.analysis.context import days_since_previous_launch, nearest_entries

CAL = pd.DataFrame([
    {"id": "lx", "date": "2026-01-05", "end_date": None, "category": "summit", "title": "Lee–Xi summit"},
    {"id": "c9", "date": "2026-02-19", "end_date": "2026-02-25", "category": "party_congress",
     "title": "9th Party Congress"},
    {"id": "fs", "date": "2026-03-09", "end_date": "2026-03-19", "category": "exercise",
     "title": "Freedom Shield 2026"},
])


def test_seed_event_is_23_days_before_congress():
    ctx = nearest_entries("2026-01-27", CAL)
    assert ctx["next"].id == "c9" and ctx["next"].days == 23
    assert ctx["next"].phrase() == "23 days before the 9th Party Congress (opened 2026-02-19)"
    assert ctx["previous"].id == "lx" and ctx["previous"].days == -22
    assert ctx["previous"].phrase() == "22 days after Lee–Xi summit (on 2026-01-05)"


def test_one_day_before_summit_and_during_exercise():
    assert nearest_entries("2026-01-04", CAL)["next"].phrase() == "1 day before Lee–Xi summit (on 2026-01-05)"
    ctx = nearest_entries("2026-03-14", CAL)
    assert [n.id for n in ctx["during"]] == ["fs"]
    assert ctx["during"][0].phrase() == "during Freedom Shield 2026 (2026-03-09 to 2026-03-19)"
    # the congress ended on 02-25: 17 days before 03-14
    assert ctx["previous"].id == "c9" and ctx["previous"].days == -17


def test_category_filter_and_empty_calendar():
    assert nearest_entries("2026-01-27", CAL, categories=["summit"])["next"] is None


def test_days_since_previous_launch_counts_distinct_days():
    ev = pd.DataFrame({"date": ["2026-01-27", "2026-01-04", "2026-01-27", "2026-03-14"]})
    s = days_since_previous_launch(ev)
    assert pd.isna(s.iloc[1]) and s.iloc[0] == 23 and s.iloc[2] == 23 and s.iloc[3] == 46


def test_event_ids_keep_non_latin_sites_apart():
    from nkbrief.model.schema import make_event_id

    a = make_event_id("2026-01-27", "SRBM", "평양 북방")
    b = make_event_id("2026-01-27", "SRBM", "원산")
    assert a != b and a.startswith("2026-01-27-srbm-u")
    assert make_event_id("2026-01-27", "SRBM", "평양 북방") == a
    assert make_event_id("2026-01-27", "SRBM", None).endswith("-unknown")
    assert make_event_id("2026-01-27", "SRBM", "North of Pyongyang") == "2026-01-27-srbm-north-of-pyongyang"


def test_days_array_numpy_path_matches_pandas_and_refuses_what_pandas_refuses():
    import numpy as np
    import pandas as pd
    import pytest

    from nkbrief.analysis.context import days_array, iso_days

    dates = ["1984-04-09", "2026-01-27", None, "2000-02-29"]
    by_pandas = pd.to_datetime(pd.Series(dates), format="%Y-%m-%d").to_numpy("datetime64[D]").astype("int64")
    assert iso_days(dates) is not None
    assert np.array_equal(days_array(dates), by_pandas)
    assert np.array_equal(days_array(pd.Series(dates, dtype="string")), by_pandas)
    assert iso_days(["2026-02-30"]) is None and iso_days(["27/01/2026"]) is None
    with pytest.raises(ValueError):  # not a date: pandas' parser refuses it, as before
        days_array(["2026-02-30"])


def test_days_array_of_many_dates_goes_to_pandas_with_the_same_result():
    import numpy as np
    import pandas as pd

    from nkbrief.analysis.context import NUMPY_PARSE_MAX, days_array, iso_days

    dates = [str(np.datetime64("1984-01-01") + i) for i in range(NUMPY_PARSE_MAX + 1)]
    assert iso_days(dates) is None and iso_days(dates[:NUMPY_PARSE_MAX]) is not None
    by_pandas = pd.to_datetime(pd.Series(dates), format="%Y-%m-%d").to_numpy("datetime64[D]").astype("int64")
    assert np.array_equal(days_array(dates), by_pandas)
    assert np.array_equal(days_array(dates[:NUMPY_PARSE_MAX]), by_pandas[:NUMPY_PARSE_MAX])
