"""Where a launch falls in the political calendar: day counts to the entries around it.

Day counts are whole Korean calendar days between the launch date and the entry's start
date (both are Korean dates in the store), so "23 days before" means the entry opened 23
days after the launch day.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

CATEGORY_LABELS = {
    "party_congress": "Party congress",
    "plenum": "Plenum",
    "spa_session": "SPA session",
    "summit": "Summit",
    "exercise": "US–ROK exercise",
    "inauguration": "Inauguration",
    "anniversary": "Anniversary",
    "un_resolution": "UN resolution",
    "nuclear_test": "Nuclear test",
    "other": "Other",
}


def to_day(date: str) -> int:
    """Days since 1970-01-01 for an ISO date."""
    return _dt.date.fromisoformat(date).toordinal() - 719163


#: Up to this many values, dates are parsed by numpy (:func:`iso_days`); more go to pandas.
#: pandas' ISO parser is faster per value (~0.4 vs ~1 us), but its first use in a process
#: compiles _strptime's patterns (~4 ms): a window opening on a few hundred events pays that
#: before it can paint, a frame of 100k events is parsed faster by pandas.
NUMPY_PARSE_MAX = 2000


def iso_days(dates) -> np.ndarray | None:
    """YYYY-MM-DD text (missing values NaT) as datetime64[D], parsed by numpy. None when
    there are more than :data:`NUMPY_PARSE_MAX` values, or any value has another shape or
    is not a date: the caller then uses pandas' parser, which decides as it always has."""
    if len(dates) > NUMPY_PARSE_MAX:
        return None
    arr = (dates.to_numpy(dtype=object, na_value=None) if isinstance(dates, pd.Series)
           else np.asarray(dates, dtype=object)).tolist()
    text = ["NaT" if v is None else v for v in arr]
    if not all(v.__class__ is str and (len(v) == 10 or v == "NaT") for v in text):
        return None
    try:
        return np.array(text, dtype="datetime64[D]")
    except ValueError:
        return None


def days_array(dates) -> np.ndarray:
    """ISO date strings to int64 day numbers (vectorised)."""
    d = iso_days(dates)
    if d is None:
        d = pd.to_datetime(pd.Series(dates), format="%Y-%m-%d").to_numpy("datetime64[D]")
    return d.astype("int64")


@dataclass(frozen=True)
class Nearby:
    """One calendar entry relative to a launch: ``days`` > 0 means the entry is later."""

    id: str
    title: str
    category: str
    date: str
    end_date: str | None
    days: int
    during: bool = False

    def phrase(self) -> str:
        """'23 days before the 9th Party Congress (opened 2026-02-19)'."""
        verb = "opened" if self.end_date else "on"
        # "the 9th Party Congress", but "Freedom Shield 2026" and "UNSCR 2397" as they are.
        name = f"the {self.title}" if self.title[:1].isdigit() else self.title
        if self.during:
            return f"during {name} ({self.date} to {self.end_date})"
        if self.days == 0:
            return f"on the day of {name}"
        n = abs(self.days)
        unit = "day" if n == 1 else "days"
        if self.days > 0:
            return f"{n} {unit} before {name} ({verb} {self.date})"
        tail = f"({'ended' if self.end_date else 'on'} {self.end_date or self.date})"
        return f"{n} {unit} after {name} {tail}"


def _entry(row, days: int, during: bool = False) -> Nearby:
    end = row["end_date"] if isinstance(row["end_date"], str) and row["end_date"] else None
    return Nearby(row["id"], row["title"], row["category"], row["date"], end, days, during)


def nearest_entries(date: str, calendar: pd.DataFrame, categories=None) -> dict:
    """The calendar entries around a launch on ``date``.

    Returns ``{"previous": Nearby|None, "next": Nearby|None, "during": [Nearby...]}``.
    ``previous`` counts days since an entry ended (or happened); ``next`` counts days to an
    entry's start; ``during`` lists multi-day entries (congresses, exercises) under way.
    """
    cal = calendar if categories is None else calendar[calendar["category"].isin(list(categories))]
    out: dict = {"previous": None, "next": None, "during": []}
    if cal.empty:
        return out
    d = to_day(date)
    start = days_array(cal["date"])
    ends = cal["end_date"].where(cal["end_date"].notna() & (cal["end_date"] != ""), cal["date"])
    end = days_array(ends)
    later = np.flatnonzero(start > d)
    if later.size:
        i = later[np.argmin(start[later])]
        out["next"] = _entry(cal.iloc[i], int(start[i] - d))
    earlier = np.flatnonzero(end < d)
    if earlier.size:
        i = earlier[np.argmax(end[earlier])]
        out["previous"] = _entry(cal.iloc[i], int(end[i] - d))
    today = np.flatnonzero((start <= d) & (end >= d))
    out["during"] = [_entry(cal.iloc[i], int(start[i] - d), during=bool(end[i] > start[i]))
                     for i in today]
    return out


def days_since_previous_launch(events: pd.DataFrame) -> pd.Series:
    """For each event (any order), days since the previous distinct launch day; NaN for the first.

    With a ``date_precision`` column, a day count needs both ends known to the day: an event
    known only to the month or year gets NaN, and so does a launch when a month- or
    year-precision launch may fall between it and the previous day-precision launch (which
    came last is then unknown).
    """
    if "date_precision" not in events.columns:
        days = days_array(events["date"])
        uniq = np.unique(days)
        pos = np.searchsorted(uniq, days)
        prev = np.where(pos > 0, uniq[np.maximum(pos - 1, 0)], -1)
        res = np.where(pos > 0, days - prev, np.nan)
        return pd.Series(res, index=events.index, dtype="float64")
    prec = events["date_precision"].fillna("day").to_numpy()
    days = days_array(events["date"]) if len(events) else np.zeros(0, dtype="int64")
    is_day = prec == "day"
    uniq = np.unique(days[is_day])
    pos = np.searchsorted(uniq, days)
    prev = np.where(pos > 0, uniq[np.maximum(pos - 1, 0)], -1)
    res = np.where(is_day & (pos > 0), days - prev, np.nan)
    # a launch known only to the month/year whose period meets (previous launch, this launch]
    for date, p in zip(np.asarray(events["date"])[~is_day], prec[~is_day]):
        a, b = period_bounds(date, p)
        res[is_day & (pos > 0) & (a <= days) & (b > prev)] = np.nan
    return pd.Series(res, index=events.index, dtype="float64")


def period_bounds(date: str, precision: str | None) -> tuple[int, int]:
    """First and last day number that a date of this precision may stand for."""
    d = _dt.date.fromisoformat(date)
    if precision == "year":
        return to_day(f"{d.year}-01-01"), to_day(f"{d.year}-12-31")
    if precision == "month":
        nxt = _dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return to_day(f"{d.year}-{d.month:02d}-01"), to_day(nxt.isoformat()) - 1
    return to_day(date), to_day(date)


# ------------------------------------------------------------------ the calendar context
#: How far before or after a launch an entry is still part of its calendar context.
CONTEXT_DAYS = 60
#: Categories in the order the context lists them: the most telling first, so the first
#: line for 2026-01-27 is the 9th Party Congress even though KPA founding day is nearer.
CONTEXT_ORDER = ("party_congress", "summit", "plenum", "spa_session", "inauguration", "exercise",
                 "nuclear_test", "un_resolution", "anniversary", "other")
#: The categories whose next entry a pack's timeline must reach.
REACH_CATEGORIES = ("party_congress", "summit")
NO_DAY_NOTE = "The date is known only to the {p}: no day counts to calendar entries."


def calendar_context(date: str, calendar: pd.DataFrame, precision: str | None = "day") -> list[Nearby]:
    """The calendar context of one launch: see :func:`calendar_contexts`."""
    return calendar_contexts([date], calendar, [precision])[0]


def calendar_contexts(dates, calendar: pd.DataFrame, precisions=None) -> list[list[Nearby]]:
    """THE calendar context of launches, used by the detail pane, the pack, ``show`` and the
    timeline tooltip.

    For each launch, per category in :data:`CONTEXT_ORDER`: the entries under way that day
    (or on that day), the next entry if it starts within :data:`CONTEXT_DAYS` days, and the
    previous one if it ended within :data:`CONTEXT_DAYS` days. So the nearest entry of every
    category that is near at all is listed, and the next party congress is listed even when
    an anniversary is nearer. ``Nearby.days`` > 0: the entry starts that many days later;
    < 0: it ended that many days earlier; 0: that day or under way.

    A launch known only to the month or year (``precisions``) gets an empty list: day counts
    from it would be invented (see :data:`NO_DAY_NOTE`).
    """
    dates = list(dates)
    out: list[list[Nearby]] = [[] for _ in dates]
    if calendar is None or calendar.empty or not dates:
        return out
    prec = ["day"] * len(dates) if precisions is None else [p or "day" for p in precisions]
    keep = np.array([p == "day" for p in prec])
    if not keep.any():
        return out
    d = np.zeros(len(dates), dtype="int64")
    d[keep] = days_array([x for x, k in zip(dates, keep) if k])
    cal = calendar.reset_index(drop=True)
    start = days_array(cal["date"])
    ends = cal["end_date"].where(cal["end_date"].notna() & (cal["end_date"] != ""), cal["date"])
    end = days_array(ends)
    cats = cal["category"].to_numpy()
    rows = list(zip(cal["id"], cal["title"], cal["category"], cal["date"],
                    [e if isinstance(e, str) and e else None for e in cal["end_date"]]))

    def item(i: int, days: int, during: bool = False) -> Nearby:
        eid, title, category, date, end_date = rows[i]
        return Nearby(eid, title, category, date, end_date, int(days), during)

    per: list[list[tuple]] = [[] for _ in dates]  # (order, rank, item)
    for rank_c, cat in enumerate(CONTEXT_ORDER + tuple(sorted(set(cats) - set(CONTEXT_ORDER)))):
        idx = np.flatnonzero(cats == cat)
        if not idx.size:
            continue
        s, e = start[idx], end[idx]
        so = np.argsort(s, kind="stable")
        eo = np.argsort(e, kind="stable")
        m = len(s)
        k = np.searchsorted(s[so], d, side="right")  # first entry starting later
        nxt = idx[so[np.minimum(k, m - 1)]]
        ok = keep & (k < m) & (start[nxt] - d <= CONTEXT_DAYS)
        for x in np.flatnonzero(ok):
            per[x].append((rank_c, 1, item(int(nxt[x]), int(start[nxt[x]] - d[x]))))
        j = np.searchsorted(e[eo], d, side="left") - 1  # last entry ending earlier
        jc = np.maximum(j, 0)
        first = np.searchsorted(e[eo], e[eo][jc], side="left")  # ties: the first calendar row
        prv = idx[eo[first]]
        ok = keep & (j >= 0) & (d - end[prv] <= CONTEXT_DAYS)
        for x in np.flatnonzero(ok):
            per[x].append((rank_c, 2, item(int(prv[x]), int(end[prv[x]] - d[x]))))
        for c0 in range(0, len(d), 4096):  # under way that day (or on that day)
            dd = d[c0:c0 + 4096, None]
            xs, us = np.nonzero((s[None, :] <= dd) & (e[None, :] >= dd) & keep[c0:c0 + 4096, None])
            for x, u in zip(xs, us):
                per[c0 + x].append((rank_c, 0, item(int(idx[u]), int(s[u] - d[c0 + x]),
                                                    during=bool(e[u] > s[u]))))
    for x, items in enumerate(per):
        out[x] = [it for _, _, it in sorted(items, key=lambda t: (t[0], t[1]))]
    return out


def context_record(n: Nearby) -> dict:
    """One context item as plain data (``show --json``'s ``calendar_context``)."""
    if n.during or n.days == 0:
        relation = "during" if n.during else "on the day"
    else:
        relation = "before" if n.days > 0 else "after"
    return {"category": n.category, "category_label": CATEGORY_LABELS.get(n.category, n.category),
            "id": n.id, "title": n.title, "date": n.date, "end_date": n.end_date,
            "relation": relation, "days_before": n.days if n.days > 0 and not n.during else None,
            "days_after": -n.days if n.days < 0 and not n.during else None,
            "phrase": n.phrase()}


def context_reach(contexts: list[list[Nearby]]) -> str | None:
    """The last day (ISO) of the latest upcoming party congress or summit that any of these
    contexts names: a pack's timeline must reach it."""
    last = None
    for items in contexts:
        for n in items:
            if n.category in REACH_CATEGORIES and n.days > 0:
                day = n.end_date or n.date
                last = day if last is None or day > last else last
    return last
