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


def days_array(dates) -> np.ndarray:
    """ISO date strings to int64 day numbers (vectorised)."""
    return (pd.to_datetime(pd.Series(dates), format="%Y-%m-%d").to_numpy("datetime64[D]")
            .astype("int64"))


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
    """For each event (any order), days since the previous distinct launch day; NaN for the first."""
    days = days_array(events["date"])
    uniq = np.unique(days)
    pos = np.searchsorted(uniq, days)
    prev = np.where(pos > 0, uniq[np.maximum(pos - 1, 0)], -1)
    res = np.where(pos > 0, days - prev, np.nan)
    return pd.Series(res, index=events.index, dtype="float64")
