"""Filter, sort and format the events frame for the table and timeline, with numpy. Qt-free.

:class:`EventView` wraps one events frame (``Store.events_frame()``) and keeps one array,
``rows``, that maps each visible (filtered, sorted) row to its row in the frame. Display
strings are formatted once per column per load, and sort keys are integer ranks computed
once per column, so a re-sort or a re-filter is a handful of vectorised operations even on
100k events. The Qt table model is a thin shell over this class, so headless tests and
benchmarks exercise the same code the window runs.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import totals
from .context import NUMPY_PARSE_MAX, iso_days as _iso_days
from ..model.schema import QUALIFIER_SIGNS

KST_OFFSET_S = 9 * 3600
#: Up to this many ids are looked for in the remembered selection before the id index.
_FEW_IDS = 4

#: Table columns: (key, header). ``key`` names the frame column it shows.
COLUMNS: list[tuple[str, str]] = [
    ("date", "Date"),
    ("time_kst", "Time (KST)"),
    ("missile_class", "Class"),
    ("missile_name", "Name"),
    ("count", "Count"),
    ("distance_km", "Distance (km)"),
    ("apogee_km", "Apogee (km)"),
    ("launch_site", "Site"),
    ("outcome", "Outcome"),
    ("confirmation", "Confirmation"),
    ("sources", "Sources"),
    # Not shown by default (the column chooser offers them): every other event field.
    ("time_utc", "Time (UTC)"),
    ("landing_area", "Landing area"),
    ("leader_attended", "Leader attended"),
    ("coordinates", "Coordinates"),
    ("id", "Id"),
    ("description", "Description"),
    ("notes", "Notes"),
    ("provenance", "Provenance"),
]
COLUMN_KEYS = [k for k, _ in COLUMNS]
#: Columns shown until the analyst picks others: the key facts that fit at 1280 px.
DEFAULT_COLUMNS = ("date", "time_kst", "missile_class", "missile_name", "count", "distance_km",
                   "launch_site", "outcome", "confirmation")
NUMERIC_COLUMNS = frozenset({"count", "distance_km", "apogee_km", "sources"})
#: Columns whose filter is a list of values (numeric ones take a range, the date the bar's dates).
VALUE_COLUMNS = tuple(k for k in COLUMN_KEYS if k not in NUMERIC_COLUMNS and k != "date")
SEARCH_FIELDS = ("id", "missile_name", "launch_site", "description", "notes", "provenance")

#: ``field:value`` names the search accepts, and the frame column each one reads.
SEARCH_FIELD_NAMES: dict[str, str] = {
    "class": "missile_class", "name": "missile_name", "system": "missile_name", "site": "launch_site",
    "id": "id", "outcome": "outcome", "confirmation": "confirmation", "notes": "notes",
    "description": "description", "desc": "description", "landing": "landing_area", "date": "date",
    "provenance": "provenance",
}
#: Fields matched as a whole value (case-insensitive); the others match a part of the text.
_WHOLE_VALUE_FIELDS = frozenset({"missile_class", "outcome", "confirmation"})


class QueryError(ValueError):
    """A search the parser cannot read; the message says why in words."""


@dataclass(frozen=True)
class Term:
    """One search term: ``text`` (case-folded) in ``field`` (None: any searched field)."""

    text: str
    field: str | None = None
    negate: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed search: every group must match; a group matches when any of its terms does."""

    groups: tuple[tuple[Term, ...], ...] = ()

    def is_empty(self) -> bool:
        return not self.groups


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Split on blanks, keeping "quoted phrases" whole: (token, was_quoted) pairs.

    A quote that is never closed runs to the end of the text (the analyst is still typing).
    A quote inside a token (``site:"Sunan airport"``) keeps the phrase with its prefix.
    """
    out: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        buf, quoted = [], False
        while i < n and not text[i].isspace():
            if text[i] == '"':
                quoted = True
                j = text.find('"', i + 1)
                j = n if j < 0 else j
                buf.append(text[i + 1:j])
                i = j + 1
            else:
                buf.append(text[i])
                i += 1
        out.append(("".join(buf), quoted))
    return out


def parse_query(text: str | None) -> Query:
    """Parse the search box: words, ``"phrases"``, ``OR``, ``-exclusion``, ``field:value``.

    ``Hwasong "party congress" -failure class:ICBM OR class:IRBM site:Sunan id:2017-07``.
    Words and phrases are ANDed; ``OR`` (in capitals) joins the terms on either side into
    one group. Raises :class:`QueryError` ("unknown field 'foo:' …") for what cannot be read.
    """
    groups: list[list[Term]] = []
    join_next = False
    for tok, quoted in _tokens(text or ""):
        if tok == "OR" and not quoted:
            if not groups or join_next:
                raise QueryError("OR needs a search term on each side")
            join_next = True
            continue
        negate = False
        body = tok
        if body.startswith("-") and len(body) > 1:
            negate, body = True, body[1:]
        field = None
        head, sep, rest = body.partition(":")
        if sep and head and head.replace("_", "").isalpha() and not (quoted and body.startswith('"')):
            key = head.casefold()
            if key not in SEARCH_FIELD_NAMES:
                known = ", ".join(f"{k}:" for k in SEARCH_FIELD_NAMES if k not in ("system", "desc"))
                raise QueryError(f"unknown search field '{head}:' (use {known})")
            field, body = SEARCH_FIELD_NAMES[key], rest
            if not body.strip():
                raise QueryError(f"'{head}:' needs a value, e.g. {head}:{_EXAMPLES.get(key, 'text')}")
        value = body.strip().casefold()
        if not value:
            if join_next:
                raise QueryError("OR needs a search term on each side")
            continue
        term = Term(value, field, negate)
        if join_next:
            groups[-1].append(term)
            join_next = False
        else:
            groups.append([term])
    if join_next:
        raise QueryError("OR needs a search term on each side")
    return Query(tuple(tuple(g) for g in groups))


_EXAMPLES = {"class": "ICBM", "site": "Sunan", "id": "2017-07-04", "outcome": "failure",
             "confirmation": "confirmed", "date": "2017-07", "name": "Hwasong"}


def date_range(text_from: str | None, text_to: str | None) -> tuple[str | None, str | None, str | None]:
    """The filter bar's dates as (first, last, problem).

    With a problem (a bound that is not a date, or a range that ends before it starts) both
    bounds are None, so the range is not applied, and ``problem`` says why in words.
    """
    problems = []
    bounds: list[str | None] = []
    for label, text, end in (("From", text_from, False), ("To", text_to, True)):
        try:
            bounds.append(parse_date_bound(text, end=end))
        except ValueError as e:
            bounds.append(None)
            problems.append(f"{label}: {e}")
    if problems:
        return None, None, "; ".join(problems) + " — dates not applied"
    lo, hi = bounds
    if lo and hi and lo > hi:
        return None, None, f"the range ends ({hi}) before it starts ({lo}) — dates not applied"
    return lo, hi, None


@dataclass(frozen=True)
class FilterSpec:
    """What the filter bar asks for. Empty/None fields do not filter."""

    text: str = ""
    date_from: str | None = None  # ISO date, inclusive
    date_to: str | None = None  # ISO date, inclusive
    classes: frozenset[str] | None = None
    outcome: str | None = None
    confirmation: str | None = None
    has_notes: bool = False
    #: Per-column value lists: ((column key, frozenset of display values shown), ...).
    values: tuple[tuple[str, frozenset[str]], ...] = ()
    #: Per-column exclusions: ((column key, frozenset of display values hidden), ...).
    excluded: tuple[tuple[str, frozenset[str]], ...] = ()
    #: Per-column numeric ranges: ((column key, low or None, high or None), ...), inclusive.
    ranges: tuple[tuple[str, float | None, float | None], ...] = ()
    #: Only these event ids (e.g. one import batch), described for the analyst by ``ids_label``.
    ids: frozenset[str] | None = None
    ids_label: str = ""

    def is_empty(self) -> bool:
        return self == FilterSpec()


def parse_date_bound(text: str | None, *, end: bool = False) -> str | None:
    """'2017' -> '2017-01-01' (or '2017-12-31' with ``end``); also 'YYYY-MM' and full dates.

    Blank gives None. Raises ValueError("'2017-13' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)").
    """
    v = (text or "").strip()
    if not v:
        return None
    try:
        if len(v) == 4 and v.isdigit():
            return f"{v}-12-31" if end else f"{v}-01-01"
        if len(v) == 7 and v[4] == "-":
            d = _dt.date.fromisoformat(v + "-01")
            if end:
                nxt = (d.replace(day=28) + _dt.timedelta(days=4)).replace(day=1)
                return (nxt - _dt.timedelta(days=1)).isoformat()
            return d.isoformat()
        if len(v) == 10:
            return _dt.date.fromisoformat(v).isoformat()
    except ValueError:
        pass
    raise ValueError(f"{v!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")


def merge_runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """Sorted unique row numbers -> inclusive (first, last) runs: [1,2,3,7] -> [(1,3),(7,7)]."""
    r = np.asarray(rows, dtype=np.int64)
    if r.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(r) != 1)
    starts = np.concatenate(([r[0]], r[breaks + 1]))
    ends = np.concatenate((r[breaks], [r[-1]]))
    return list(zip(starts.tolist(), ends.tolist()))


def _text(values) -> np.ndarray:
    """An object array of str with missing values as ''."""
    if isinstance(values, pd.Series):
        arr = values.to_numpy(dtype=object)
    else:
        arr = np.asarray(values, dtype=object)
    out = arr.copy()
    bad = pd.isna(arr)  # missing values (None/NaN/NA) in one C pass
    if bad.any():
        out[bad] = ""
    return out


def hhmm_minutes(values) -> np.ndarray:
    """'15:50' -> 950.0 per value (vectorised); anything that is not HH:MM gives NaN."""
    arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    if arr.size == 0:
        return np.zeros(0)
    b = np.array([v if type(v) is str and len(v) == 5 else "" for v in arr.tolist()], dtype="S5")
    digits = b.view(np.uint8).reshape(-1, 5).astype(np.int64) - 48
    ok = (b.view(np.uint8).reshape(-1, 5)[:, 2] == ord(":")) & (
        (digits[:, [0, 1, 3, 4]] >= 0) & (digits[:, [0, 1, 3, 4]] <= 9)).all(axis=1)
    out = ((digits[:, 0] * 10 + digits[:, 1]) * 60 + digits[:, 3] * 10 + digits[:, 4]).astype(float)
    out[~ok] = np.nan
    return out


def _floats(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _km(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 else f"{v:g}"


def _signs(frame: pd.DataFrame, column: str) -> list[str]:
    """The qualifier sign of each row ('>' for 'over', '~' for 'about'; '' for none)."""
    if column not in frame:
        return [""] * len(frame)
    return [QUALIFIER_SIGNS.get(q, "") if isinstance(q, str) else "" for q in frame[column].tolist()]


def _format_range(lo: np.ndarray, hi: np.ndarray, signs: list[str] | None = None) -> np.ndarray:
    out = np.empty(lo.shape[0], dtype=object)
    out[:] = [
        "" if a != a else (s + _km(a) if (b != b or b == a) else f"{_km(a)}–{_km(b)}")
        for a, b, s in zip(lo.tolist(), hi.tolist(), signs or [""] * lo.shape[0])
    ]
    return out


def format_date(date: str | None, precision: str | None) -> str:
    """The table's date: '2026-01-27', '1986-05' (month only) or '1986' (year only)."""
    if not isinstance(date, str):
        return ""
    if precision == "month":
        return date[:7]
    if precision == "year":
        return date[:4]
    return date


def launch_times(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """POSIX seconds (UTC) for each event: ``x`` the point, ``x0``/``x1`` the span it may cover.

    A known UTC time wins; else the KST time on the Korean date; else noon KST. Month- and
    year-only dates sit mid-span, with ``x0``/``x1`` the start and end of the month or year,
    and ``precise`` False, so a plot can draw the span instead of pretending to a day.
    """
    n = len(frame)
    if n == 0:
        z = np.zeros(0)
        return {"x": z, "x0": z, "x1": z, "precise": np.zeros(0, bool)}
    days = _iso_days(frame["date"])  # a few thousand of the store's dates and times: numpy
    utc_s = _iso_utc_seconds(frame["time_utc"])
    if days is None or utc_s is None:  # any other shape: pandas' parsers
        return _launch_times_general(frame)
    day_s = days.astype("datetime64[s]").astype("int64").astype("float64")
    prec = frame["date_precision"].to_numpy(dtype=object)
    month = prec == "month"
    year = prec == "year"
    spans = None
    if month.any() or year.any():
        def start(unit, add=0):
            return ((days.astype(f"datetime64[{unit}]") + add).astype("datetime64[s]").astype("int64")
                    - KST_OFFSET_S).astype(float)
        spans = (start("M"), start("M", 1), start("Y"), start("Y", 1))
    return _place(frame, day_s, utc_s, month, year, spans)


def _iso_utc_seconds(values: pd.Series) -> np.ndarray | None:
    """YYYY-MM-DDTHH:MM:SSZ text (the store's form) as POSIX seconds, NaN where missing;
    None when any value is of another shape, or there are more than NUMPY_PARSE_MAX
    (pandas' parser is then faster: see nkbrief.analysis.context)."""
    if len(values) > NUMPY_PARSE_MAX:
        return None
    text = ["NaT" if v is None else v[:-1] if v.__class__ is str and len(v) == 20 and v[-1] == "Z" else None
            for v in values.to_numpy(dtype=object, na_value=None).tolist()]
    if None in text:
        return None
    try:
        t = np.array(text, dtype="datetime64[s]")
    except ValueError:
        return None
    out = t.astype("int64").astype("float64")
    out[np.isnat(t)] = np.nan
    return out


def _launch_times_general(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """:func:`launch_times` through pandas' parsers: any text pandas reads as a date."""
    day = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    day_s = day.to_numpy("datetime64[s]").astype("int64").astype("float64")
    prec = frame["date_precision"].to_numpy(dtype=object)
    utc = pd.to_datetime(frame["time_utc"], utc=True, errors="coerce", format="ISO8601")
    utc_s = utc.to_numpy("datetime64[s]").astype("int64").astype("float64")
    utc_s[utc.isna().to_numpy()] = np.nan
    month = prec == "month"
    year = prec == "year"
    spans = None
    if month.any() or year.any():
        m = day.dt.to_period("M")
        ms = (m.dt.start_time.to_numpy("datetime64[s]").astype("int64") - KST_OFFSET_S).astype(float)
        me = ((m + 1).dt.start_time.to_numpy("datetime64[s]").astype("int64") - KST_OFFSET_S).astype(float)
        y = day.dt.to_period("Y")
        ys = (y.dt.start_time.to_numpy("datetime64[s]").astype("int64") - KST_OFFSET_S).astype(float)
        ye = ((y + 1).dt.start_time.to_numpy("datetime64[s]").astype("int64") - KST_OFFSET_S).astype(float)
        spans = (ms, me, ys, ye)
    return _place(frame, day_s, utc_s, month, year, spans)


def _place(frame, day_s, utc_s, month, year, spans) -> dict[str, np.ndarray]:
    """The point and span of each event from its day (seconds), UTC time and precision."""
    midnight_kst = day_s - KST_OFFSET_S
    minutes = hhmm_minutes(frame["time_kst"])
    x = np.where(np.isfinite(minutes), midnight_kst + minutes * 60, midnight_kst + 12 * 3600)
    x = np.where(np.isfinite(utc_s), utc_s, x)
    x0 = x.copy()
    x1 = x.copy()
    if spans is not None:
        ms, me, ys, ye = spans
        x0 = np.where(month, ms, np.where(year, ys, x0))
        x1 = np.where(month, me, np.where(year, ye, x1))
        x = np.where(month | year, (x0 + x1) / 2, x)
    return {"x": x, "x0": x0, "x1": x1, "precise": ~(month | year)}


def _count_columns(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """count and per-missile rows as floats (NaN missing), count_qualifier as objects."""
    count = frame["count"].to_numpy(dtype="float64", na_value=np.nan)
    rows = (frame["missiles"].to_numpy(dtype="float64", na_value=np.nan) if "missiles" in frame
            else np.full(len(frame), np.nan))
    quals = (frame["count_qualifier"].to_numpy(dtype=object) if "count_qualifier" in frame
             else np.full(len(frame), None, dtype=object))
    return count, rows, quals


def missiles_per_event(frame: pd.DataFrame) -> np.ndarray:
    """Missiles in each event under :mod:`nkbrief.analysis.totals`' rule; NaN where none is reported."""
    count, rows, _quals = _count_columns(frame)
    return totals.per_event(count, rows)


def frame_missile_totals(frame: pd.DataFrame) -> totals.Totals:
    """:func:`nkbrief.analysis.totals.missile_totals` of every row of an events frame."""
    return totals.missile_totals(*_count_columns(frame))


def selection_summary(frame: pd.DataFrame) -> dict:
    """Summary of several events: count, missiles, classes (most frequent first), span, max range."""
    if frame.empty:
        return {"events": 0, "missiles": totals.missile_totals([]), "classes": {}, "first": None, "last": None,
                "max_range_km": None, "max_range_id": None}
    dist = np.fmax(_floats(frame["distance_km"]), _floats(frame["distance_km_max"]))
    best = int(np.nanargmax(dist)) if np.isfinite(dist).any() else None
    classes = frame["missile_class"].fillna("unknown").value_counts()
    dates = frame["date"].dropna()
    return {
        "events": len(frame),
        "missiles": frame_missile_totals(frame),
        "classes": {str(k): int(v) for k, v in classes.items()},
        "first": str(dates.min()) if len(dates) else None,
        "last": str(dates.max()) if len(dates) else None,
        "max_range_km": None if best is None else float(dist[best]),
        "max_range_id": None if best is None else str(frame["id"].iloc[best]),
    }


def _safe_cell(s: str) -> str:
    """A TSV cell: tabs/newlines flattened; formula-like text defused with a leading apostrophe."""
    s = s.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    if s[:1] in ("=", "+", "-", "@") and not _is_number(s):
        return "'" + s
    return s


def _is_number(s: str) -> bool:
    try:
        float(s.replace(",", ""))
    except ValueError:
        return False
    return True


@dataclass
class EventView:
    """One events frame, filtered and sorted: ``rows[i]`` is the frame row shown at row ``i``."""

    frame: pd.DataFrame
    spec: FilterSpec = field(default_factory=FilterSpec)
    sort_column: str | None = None
    ascending: bool = True

    def __post_init__(self) -> None:
        self.frame = self.frame.reset_index(drop=True)
        self.n = len(self.frame)
        self.ids = _text(self.frame["id"])
        self._row_of: pd.Index | None = None
        # The last ids tuple looked up (or named by the table) and its frame rows: the
        # views that follow one selection change ask for the same tuple in turn.
        self._rows_memo: tuple[tuple, np.ndarray] | None = None
        self._display: dict[str, np.ndarray] = {}
        self._keys: dict[str, np.ndarray] = {}
        self._haystack: np.ndarray | None = None
        self._days: np.ndarray | None = None
        self._missiles: np.ndarray | None = None
        self.mask = np.ones(self.n, dtype=bool)
        self.rows = np.arange(self.n, dtype=np.int64)
        self.inverse = np.arange(self.n, dtype=np.int64)
        self.set_filter(self.spec)

    # -------------------------------------------------------------- display
    def display(self, key: str) -> np.ndarray:
        """Display strings of one column for every frame row (formatted on first use)."""
        out = self._display.get(key)
        if out is None:
            out = self._format(key)
            self._display[key] = out
        return out

    def _format(self, key: str) -> np.ndarray:
        f = self.frame
        if key == "date":
            out = np.empty(self.n, dtype=object)
            out[:] = [format_date(d, p) for d, p in zip(f["date"].tolist(), f["date_precision"].tolist())]
            return out
        if key == "count":
            c = f["count"].to_numpy(dtype="float64", na_value=np.nan)
            out = np.empty(self.n, dtype=object)
            out[:] = ["" if v != v else s + str(int(v)) for v, s in zip(c.tolist(), _signs(f, "count_qualifier"))]
            return out
        if key == "distance_km":
            return _format_range(_floats(f["distance_km"]), _floats(f["distance_km_max"]),
                                 _signs(f, "distance_qualifier"))
        if key == "apogee_km":
            return _format_range(_floats(f["apogee_km"]), _floats(f["apogee_km_max"]),
                                 _signs(f, "apogee_qualifier"))
        if key == "sources":
            out = np.empty(self.n, dtype=object)
            out[:] = [str(len(s)) if isinstance(s, list) else "0" for s in f["sources"].tolist()]
            return out
        if key == "leader_attended":
            out = np.empty(self.n, dtype=object)
            out[:] = ["" if v is None or v is pd.NA or v != v else ("yes" if v else "no")
                      for v in f[key].astype(object).tolist()]
            return out
        if key == "coordinates":
            lat, lon = _floats(f["latitude"]), _floats(f["longitude"])
            out = np.empty(self.n, dtype=object)
            out[:] = ["" if a != a or b != b else f"{a:.2f}, {b:.2f}" for a, b in zip(lat.tolist(), lon.tolist())]
            return out
        if key in ("description", "notes"):  # one line in a cell; the tooltip has it all
            return np.array([" ".join(v.split()) for v in _text(f[key]).tolist()], dtype=object) \
                if self.n else np.empty(0, dtype=object)
        return _text(f[key])

    # ----------------------------------------------------------------- keys
    def sort_key(self, key: str) -> np.ndarray:
        """A float key per frame row (NaN for missing), computed once per column."""
        k = self._keys.get(key)
        if k is None:
            k = self._make_key(key)
            self._keys[key] = k
        return k

    def _make_key(self, key: str) -> np.ndarray:
        f = self.frame
        if key in ("distance_km", "apogee_km"):
            return _floats(f[key])
        if key == "count":
            return f["count"].to_numpy(dtype="float64", na_value=np.nan)
        if key == "sources":
            return np.array([len(s) if isinstance(s, list) else 0 for s in f["sources"].tolist()], dtype=float)
        if key == "date":
            # date, then time of day (unknown time first, as the store orders it); ties keep
            # frame order, which is the store's (date, time, id) order.
            minutes = np.nan_to_num(hhmm_minutes(f["time_kst"]), nan=-1.0)
            days = self.days.astype("float64")
            days[self.days == np.iinfo(np.int64).min] = np.nan  # NaT
            return days * 1440.0 + minutes
        if key == "time_kst":
            return _rank(f[key].to_numpy(dtype=object))
        if key == "coordinates":
            return _floats(f["latitude"])
        return _rank(np.array([v.casefold() for v in self.display(key).tolist()], dtype=object))

    # --------------------------------------------------------------- filter
    @property
    def days(self) -> np.ndarray:
        if self._days is None:
            d = _iso_days(self.frame["date"])  # the store's form, in numpy; else pandas' parser
            if d is None:
                d = pd.to_datetime(self.frame["date"], format="%Y-%m-%d", errors="coerce").to_numpy("datetime64[D]")
            self._days = d.astype("int64")
        return self._days

    @property
    def haystack(self) -> np.ndarray:
        """Lower-cased name, site, description and notes per row, for the free-text search."""
        if self._haystack is None:
            parts = [_text(self.frame[c]) for c in SEARCH_FIELDS]
            hay = np.empty(self.n, dtype=object)
            hay[:] = ["\n".join(t).casefold() for t in zip(*parts)] if self.n else []
            self._haystack = hay
        return self._haystack

    def filter_mask(self, spec: FilterSpec) -> np.ndarray:
        """Boolean mask over frame rows for ``spec``."""
        f = self.frame
        m = np.ones(self.n, dtype=bool)
        if spec.date_from:
            m &= self.days >= _day(spec.date_from)
        if spec.date_to:
            m &= self.days <= _day(spec.date_to)
        if spec.classes is not None:
            m &= f["missile_class"].fillna("unknown").isin(list(spec.classes)).to_numpy()
        if spec.outcome:
            m &= (f["outcome"].fillna("unknown") == spec.outcome).to_numpy()
        if spec.confirmation:
            m &= (f["confirmation"] == spec.confirmation).fillna(False).to_numpy(dtype=bool)
        if spec.has_notes:
            m &= np.array([isinstance(v, str) and bool(v.strip()) for v in f["notes"].tolist()], dtype=bool)
        for key, allowed in spec.values:
            m &= np.isin(self.display(key), list(allowed))
        for key, hidden in spec.excluded:
            m &= ~np.isin(self.display(key), list(hidden))
        for key, lo, hi in spec.ranges:
            a, b = self.numeric_span(key)
            ok = np.isfinite(a)
            if lo is not None:
                ok &= b >= lo
            if hi is not None:
                ok &= a <= hi
            m &= ok
        if spec.ids is not None:
            m &= np.isin(self.ids, list(spec.ids))
        if spec.text.strip() and m.any():
            try:
                query = parse_query(spec.text)
            except QueryError:  # the filter bar shows why and never sends one; apply nothing
                query = Query()
            for group in query.groups:
                if not m.any():
                    break
                cand = np.flatnonzero(m)
                hit = np.zeros(cand.size, dtype=bool)
                for term in group:
                    hit |= self._term_hits(term, cand)
                m[cand[~hit]] = False
        return m

    def _term_hits(self, term: Term, cand: np.ndarray) -> np.ndarray:
        """Whether each candidate frame row matches ``term`` (negation applied)."""
        t = term.text
        if term.field is None:
            hay = self.haystack
            hit = np.fromiter((t in hay[i] for i in cand.tolist()), bool, cand.size)
        else:
            vals = self.folded(term.field)[cand]
            if term.field in _WHOLE_VALUE_FIELDS:
                hit = vals == t
            elif term.field == "date":
                hit = np.fromiter((v.startswith(t) for v in vals.tolist()), bool, cand.size)
            else:
                hit = np.fromiter((t in v for v in vals.tolist()), bool, cand.size)
        return ~hit if term.negate else hit

    def folded(self, key: str) -> np.ndarray:
        """Case-folded text of one frame column (cached), for ``field:value`` search."""
        k = "folded:" + key
        out = self._display.get(k)
        if out is None:
            out = np.array([v.casefold() for v in _text(self.frame[key]).tolist()], dtype=object) \
                if self.n else np.empty(0, dtype=object)
            self._display[k] = out
        return out

    def numeric_span(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) per frame row of a numeric column; a distance range gives both ends."""
        if key in ("distance_km", "apogee_km"):
            lo = _floats(self.frame[key])
            return lo, np.fmax(lo, _floats(self.frame[key + "_max"]))
        k = self.sort_key(key)
        return k, k

    def value_counts(self, key: str, frame_rows=None) -> list[tuple[str, int]]:
        """(display value, events) of one column, most frequent first ('' is a blank cell)."""
        vals = self.display(key)
        if frame_rows is not None:
            vals = vals[np.asarray(frame_rows, dtype=np.int64)]
        counts = pd.Series(vals, dtype=object).value_counts(sort=False)
        pairs = [(str(v), int(c)) for v, c in counts.items()]
        return sorted(pairs, key=lambda p: (-p[1], p[0].casefold()))

    def set_filter(self, spec: FilterSpec) -> None:
        self.spec = spec
        self.mask = self.filter_mask(spec) if not spec.is_empty() else np.ones(self.n, dtype=bool)
        self._reorder()

    def sort(self, key: str | None, ascending: bool = True) -> None:
        """Sort visible rows by a column (None: the frame's chronological order)."""
        if key is not None and key not in COLUMN_KEYS:
            raise KeyError(f"no column {key!r}")
        self.sort_column, self.ascending = key, ascending
        self._reorder()

    def _reorder(self) -> None:
        base = np.flatnonzero(self.mask)
        if self.sort_column is not None:
            k = self.sort_key(self.sort_column)[base]
            # missing values always last; ties keep chronological order (stable sort)
            order = np.argsort(k if self.ascending else -k, kind="stable")
            rows = base[order]
        else:
            rows = base
            if not self.ascending:
                rows = rows[::-1]
        self.rows = rows.astype(np.int64, copy=False)
        inv = np.full(self.n, -1, dtype=np.int64)
        inv[self.rows] = np.arange(self.rows.size, dtype=np.int64)
        self.inverse = inv

    # ---------------------------------------------------------------- lookup
    def frame_rows_for_ids(self, ids: Iterable[str]) -> np.ndarray:
        """Frame rows of the given ids (unknown ids dropped), in the given order.

        The id index (a hash of every id) is built on the first lookup that needs it. A
        tuple named by :meth:`ids_for_view_rows_memo` (the table's selection) or looked up
        just before is answered from memory, and so are a few ids found in it (the current
        event): the first selection in the table after a load hashes no 100k ids."""
        if not isinstance(ids, (list, tuple, np.ndarray)):
            ids = list(ids)
        if len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        memo = self._rows_memo
        if memo is not None and ids is memo[0]:
            return memo[1].copy()
        if memo is not None and len(ids) <= _FEW_IDS:  # e.g. the current event of that selection
            try:
                return np.array([memo[1][memo[0].index(i)] for i in ids], dtype=np.int64)
            except ValueError:  # one is not in it: look them up
                pass
        if self._row_of is None:
            self._row_of = pd.Index(self.ids)
            self._row_of.is_unique  # noqa: B018 (computed once here, not on the first lookup)
        pos = self._row_of.get_indexer(ids)
        out = pos[pos >= 0].astype(np.int64, copy=False)
        if isinstance(ids, tuple) and out.size == len(ids):  # every id found: position i is row i
            self._rows_memo = (ids, out.copy())
        return out

    def ids_for_view_rows_memo(self, view_rows) -> tuple[tuple[str, ...], np.ndarray]:
        """(ids, frame rows) of some visible rows; the ids tuple is remembered with its rows,
        so passing it back to :meth:`frame_rows_for_ids` costs no lookup."""
        rows = self.rows[np.asarray(view_rows, dtype=np.int64)]
        ids = tuple(self.ids[rows].tolist())
        self._rows_memo = (ids, rows.copy())
        return ids, rows

    def view_rows_for_ids(self, ids: Iterable[str]) -> np.ndarray:
        """Sorted visible rows showing the given ids (hidden or unknown ids dropped)."""
        v = self.inverse[self.frame_rows_for_ids(ids)]
        return np.unique(v[v >= 0])

    def ids_for_view_rows(self, view_rows) -> list[str]:
        r = np.asarray(view_rows, dtype=np.int64)
        return self.ids[self.rows[r]].tolist()

    def visible_ids(self) -> list[str]:
        return self.ids[self.rows].tolist()

    @property
    def count_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(count, per-missile rows, count qualifier) per frame row, for :meth:`totals`."""
        if self._missiles is None:
            self._missiles = _count_columns(self.frame)
        return self._missiles

    def totals(self, frame_rows=None) -> totals.Totals:
        """Missiles fired in some frame rows (default: the visible ones), by the one rule."""
        r = self.rows if frame_rows is None else np.asarray(frame_rows, dtype=np.int64)
        count, rows, quals = self.count_columns
        return totals.missile_totals(count[r], rows[r], quals[r])

    def class_codes(self, frame_rows) -> tuple[np.ndarray, list[str]]:
        """(code per given row, class names) of some frame rows, a blank class as 'unknown';
        codes in order of first appearance in ``frame_rows`` (as ``value_counts`` of the
        same rows orders its ties). Only the given rows are read: no pass over the frame."""
        r = np.asarray(frame_rows, dtype=np.int64)
        codes, uniques = pd.factorize(self.frame["missile_class"].take(r).fillna("unknown"))
        return codes, [str(u) for u in uniques]

    def summary(self, frame_rows) -> dict:
        """:func:`selection_summary` of some frame rows, reading only those rows (fast at 20k)."""
        r = np.asarray(frame_rows, dtype=np.int64)
        if r.size == 0 or self.n == 0:
            return selection_summary(self.frame.iloc[:0])
        codes, uniques = self.class_codes(r)
        cnt = np.bincount(codes, minlength=len(uniques))
        classes = {uniques[i]: int(cnt[i]) for i in np.argsort(-cnt, kind="stable") if cnt[i]}
        d = np.fmax(_floats(self.frame["distance_km"])[r], _floats(self.frame["distance_km_max"])[r])
        best = int(r[np.nanargmax(d)]) if np.isfinite(d).any() else None
        if self._days is not None:
            days = self._days[r]
        else:  # parsed as :attr:`days` parses them, only these rows
            days = pd.to_datetime(self.frame["date"].take(r), format="%Y-%m-%d",
                                  errors="coerce").to_numpy("datetime64[D]").astype("int64")
        days = days[days != np.iinfo(np.int64).min]
        iso = (lambda v: str(np.datetime64(int(v), "D"))) if days.size else None
        return {
            "events": int(r.size),
            "missiles": self.totals(r),
            "classes": classes,
            "first": iso(days.min()) if days.size else None,
            "last": iso(days.max()) if days.size else None,
            "max_range_km": None if best is None else float(d[np.nanargmax(d)]),
            "max_range_id": None if best is None else str(self.ids[best]),
            "max_range_row": best,
        }

    def counts(self) -> tuple[int, int, totals.Totals]:
        """(visible events, all events, missile totals of the visible events)."""
        return int(self.rows.size), self.n, self.totals()

    def status_text(self) -> str:
        """'312 of 412 events · 1,024 missiles fired (3 events with no reported number)'."""
        shown, total, t = self.counts()
        return f"{shown:,} of {total:,} events · {t.text()}"

    def tsv(self, view_rows, keys: list[str] | None = None, header: bool = True) -> str:
        """Tab-separated text of the given visible rows (for the clipboard)."""
        keys = keys or COLUMN_KEYS
        heads = dict(COLUMNS)
        lines = ["\t".join(heads[k] for k in keys)] if header else []
        rows = self.rows[np.asarray(view_rows, dtype=np.int64)]
        cols = [self.display(k) for k in keys]
        for r in rows.tolist():
            lines.append("\t".join(_safe_cell(str(c[r])) for c in cols))
        return "\n".join(lines) + "\n"


def _day(iso: str) -> int:
    return _dt.date.fromisoformat(iso).toordinal() - 719163


def _rank(values: np.ndarray) -> np.ndarray:
    """Dense rank of text values as floats; missing (non-str or '') -> NaN (sorted last)."""
    codes, _ = pd.factorize(pd.Series(values, dtype=object).where(
        pd.Series([isinstance(v, str) and v != "" for v in values], dtype=bool)), sort=True)
    out = codes.astype("float64")
    out[codes < 0] = np.nan
    return out

