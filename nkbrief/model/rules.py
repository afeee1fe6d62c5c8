"""The value rules, declared once: every field's kind, unit, bounds and allowed words.

Every checker reads this table -- the column-wise import checker (``convert``), the
single-event checker (``schema.validate_event``), the store's column checks and the edit
dialog -- so a bound changed here changes everywhere. A value outside its bounds is
refused (never clamped) with a reason that names the bound, e.g. "row 4: Count '5000'
must be from 1 to 1,000".

The conversion between Korean (KST, UTC+9) and UTC times also lives here, once.

This module imports nothing from the project (numpy only), so anything may import it.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass

import numpy as np

# ---------------------------------------------------------------- allowed words
MISSILE_CLASSES = (
    "SRBM", "CRBM", "MRBM", "IRBM", "ICBM", "SLBM", "SLV", "HGV", "cruise", "MLRS", "unknown",
)
DATE_PRECISIONS = ("day", "month", "year")
OUTCOMES = ("success", "failure", "unknown")
CONFIRMATIONS = ("confirmed", "unconfirmed", "not stated")
#: How a source words a number: "over 700 km", "at least 7", "about 350 km", "up to 800 km".
#: A range ("350–400 km") is the value plus its ``_max`` field, not a qualifier.
QUALIFIERS = ("about", "over", "at least", "under", "up to")
QUALIFIER_SIGNS = {"about": "~", "over": ">", "at least": "≥", "under": "<", "up to": "≤"}
CALENDAR_CATEGORIES = (
    "party_congress", "plenum", "spa_session", "summit", "exercise", "inauguration",
    "anniversary", "un_resolution", "nuclear_test", "other",
)
ACTORS = ("Pyongyang", "Seoul", "Washington", "Tokyo", "Beijing", "Moscow", "UN", "other")

#: Longest text a field may hold (a hostile file cannot exhaust memory through one cell).
MAX_TEXT_CHARS = 32_000

# ---------------------------------------------------------------- bounds
COUNT_MIN, COUNT_MAX = 1, 1000
DISTANCE_MAX_KM = 20_000.0
APOGEE_MAX_KM = 10_000.0
#: The first date any date field may hold.
EARLIEST_DATE = "1950-01-01"


def latest_date(today: _dt.date | None = None) -> str:
    """The last date any date field may hold: one year after today (28 Feb for 29 Feb)."""
    t = today or _dt.date.today()
    try:
        return t.replace(year=t.year + 1).isoformat()
    except ValueError:  # 29 February
        return t.replace(year=t.year + 1, day=28).isoformat()


@dataclass(frozen=True)
class Rule:
    """What one field may hold.

    ``kind``: the type ('str', 'date', 'hhmm', 'iso', 'count', 'km', 'lat', 'lon', 'bool',
    'list', or 'words' for a vocabulary); ``unit`` as shown in messages; ``lo``/``hi``:
    inclusive bounds of a number; ``words``: the allowed words of a vocabulary (``what``
    names them in messages).
    """

    kind: str
    unit: str | None = None
    lo: float | None = None
    hi: float | None = None
    words: tuple[str, ...] | None = None
    what: str | None = None

    def bounds_text(self) -> str:
        """'1 to 1,000', '0 to 20,000 km', '1950-01-01 to 2027-12-07'."""
        if self.kind == "date" or self.kind == "iso":
            return f"{EARLIEST_DATE} to {latest_date()}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{_num(self.lo)} to {_num(self.hi)}{unit}"


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,}"


TEXT = Rule("str")
DATE = Rule("date")
TIME_KST = Rule("hhmm")
TIME_UTC = Rule("iso")
COUNT = Rule("count", None, COUNT_MIN, COUNT_MAX)
DISTANCE = Rule("km", "km", 0, DISTANCE_MAX_KM)
APOGEE = Rule("km", "km", 0, APOGEE_MAX_KM)
LATITUDE = Rule("lat", None, -90, 90)
LONGITUDE = Rule("lon", None, -180, 180)
BOOL = Rule("bool")
LIST = Rule("list")
PRECISION = Rule("words", words=DATE_PRECISIONS, what="precision")
CLASS = Rule("words", words=MISSILE_CLASSES, what="missile class")
OUTCOME = Rule("words", words=OUTCOMES, what="outcome")
CONFIRMATION = Rule("words", words=CONFIRMATIONS, what="confirmation")
QUALIFIER = Rule("words", words=QUALIFIERS, what="qualifier")
CATEGORY = Rule("words", words=CALENDAR_CATEGORIES, what="calendar category")
ACTOR = Rule("words", words=ACTORS, what="actor")
SEQ = Rule("count", None, 1, 10_000)  # a per-missile row's place in its launch

#: Event fields in display/export order, with their rule.
EVENT_RULES: dict[str, Rule] = {
    "id": TEXT, "date": DATE, "date_precision": PRECISION, "time_kst": TIME_KST, "time_utc": TIME_UTC,
    "missile_name": TEXT, "missile_class": CLASS, "count": COUNT, "count_qualifier": QUALIFIER,
    "distance_km": DISTANCE, "distance_km_max": DISTANCE, "distance_qualifier": QUALIFIER,
    "apogee_km": APOGEE, "apogee_km_max": APOGEE, "apogee_qualifier": QUALIFIER,
    "launch_site": TEXT, "latitude": LATITUDE, "longitude": LONGITUDE, "landing_area": TEXT,
    "outcome": OUTCOME, "confirmation": CONFIRMATION, "leader_attended": BOOL, "description": TEXT,
    "sources": LIST, "provenance": TEXT, "notes": TEXT,
}
#: Per-missile row fields (CNS-style); each row belongs to one event.
MISSILE_RULES: dict[str, Rule] = {
    "event_id": TEXT, "seq": SEQ, "missile_name": TEXT, "missile_class": CLASS, "time_utc": TIME_UTC,
    "time_kst": TIME_KST, "distance_km": DISTANCE, "distance_km_max": DISTANCE, "apogee_km": APOGEE,
    "apogee_km_max": APOGEE, "landing_area": TEXT, "outcome": OUTCOME, "confirmation": CONFIRMATION,
    "source_ref": TEXT, "notes": TEXT,
}
CALENDAR_RULES: dict[str, Rule] = {
    "id": TEXT, "date": DATE, "end_date": DATE, "category": CATEGORY, "title": TEXT,
    "description": TEXT, "sources": LIST,
}
STATEMENT_RULES: dict[str, Rule] = {"event_id": TEXT, "actor": ACTOR, "summary": TEXT, "source": TEXT}

#: The old kind names (``schema.EVENT_FIELDS`` etc.), kept for the store's column types.
_KIND_NAMES = {PRECISION: "precision", CLASS: "class", OUTCOME: "outcome", CONFIRMATION: "confirmation",
               CATEGORY: "category", ACTOR: "actor", QUALIFIER: "qualifier"}


def kind_name(rule: Rule) -> str:
    return _KIND_NAMES.get(rule, rule.kind)


#: kind name -> a rule of that kind (for callers that only know the kind).
RULE_OF_KIND: dict[str, Rule] = {
    "str": TEXT, "date": DATE, "hhmm": TIME_KST, "iso": TIME_UTC, "count": COUNT, "lat": LATITUDE,
    "lon": LONGITUDE, "bool": BOOL, "list": LIST, "precision": PRECISION, "class": CLASS,
    "outcome": OUTCOME, "confirmation": CONFIRMATION, "category": CATEGORY, "actor": ACTOR,
    "qualifier": QUALIFIER,
}


def rule_for(name: str, kind: str | None = None) -> Rule:
    """The rule of a field by its name (any record type), else by its kind name."""
    for table in (EVENT_RULES, MISSILE_RULES, CALENDAR_RULES, STATEMENT_RULES):
        r = table.get(name)
        if r is not None and (kind is None or kind_name(r) == kind):
            return r
    if kind == "km":
        return APOGEE if name.startswith("apogee") else DISTANCE
    return RULE_OF_KIND[kind or "str"]


# ---------------------------------------------------------------- checking one value
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def out_of_bounds(rule: Rule) -> str:
    """The reason for a value outside ``rule``'s bounds."""
    return f"must be from {rule.bounds_text()}"


def too_large(rule: Rule, digits: int) -> str:
    """The reason for an integer of ``digits`` digits, far outside any bound."""
    return f"{out_of_bounds(rule)} (it has {digits:,} digits)"


def _is_iso_date(v: object) -> bool:
    if not isinstance(v, str) or len(v) != 10:
        return False
    try:
        _dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def date_in_bounds(iso: str) -> bool:
    """True when an ISO date (YYYY-MM-DD) is from EARLIEST_DATE to :func:`latest_date`."""
    return EARLIEST_DATE <= iso <= latest_date()


def utc_in_bounds(iso: str) -> bool:
    """True when a UTC instant falls on a Korean date within the date bounds (compared on
    the text: the UTC date may be the day before the Korean one)."""
    lo = (_dt.date.fromisoformat(EARLIEST_DATE) - _dt.timedelta(days=1)).isoformat()
    return lo <= iso[:10] <= latest_date()


def check(rule: Rule, v: object) -> str | None:
    """Why ``v`` breaks ``rule`` (a reason completing "Count '5000' ..."), or None.

    None and "" are "not stated" and always pass; required fields are checked by the
    record checkers.
    """
    if v is None:
        return None
    k = rule.kind
    if k == "str":
        if not isinstance(v, str):
            return "is not text"
        if len(v) > MAX_TEXT_CHARS:
            return f"is longer than {MAX_TEXT_CHARS:,} characters"
        if not is_encodable(v):
            return "holds a lone surrogate (not a character)"
        return None
    if k == "date":
        if not _is_iso_date(v):
            return "is not a date (YYYY-MM-DD)"
        return None if date_in_bounds(v) else out_of_bounds(rule)
    if k == "hhmm":
        return None if isinstance(v, str) and _HHMM.match(v) else "is not a time (HH:MM)"
    if k == "iso":
        try:
            _dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        except ValueError:
            return "is not an ISO 8601 time"
        return None if utc_in_bounds(str(v)) else out_of_bounds(rule)
    if k == "words":
        if v not in rule.words:
            if rule.what in ("missile class", "calendar category"):
                return f"is not a {rule.what} ({', '.join(rule.words)})"
            return f"is not one of {', '.join(rule.words)}"
        return None
    if k == "count":
        if isinstance(v, bool) or not isinstance(v, int):
            return "is not a whole number"
        return None if rule.lo <= v <= rule.hi else out_of_bounds(rule)
    if k in ("km", "lat", "lon"):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (math.inf, -math.inf):
            if k == "lat":
                return "is not a latitude (-90 to 90)"
            if k == "lon":
                return "is not a longitude (-180 to 180)"
            return "is not a number"
        if k == "lat" and not -90 <= v <= 90:
            return "is not a latitude (-90 to 90)"
        if k == "lon" and not -180 <= v <= 180:
            return "is not a longitude (-180 to 180)"
        if k == "km" and v < 0:
            return "must not be negative"
        return None if rule.lo <= v <= rule.hi else out_of_bounds(rule)
    if k == "bool":
        return None if isinstance(v, bool) else "is not yes/no"
    if k == "list":
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            return "is not a list of text"
        if not all(map(is_encodable, v)):
            return "holds a lone surrogate (not a character)"
        return None
    return None


def column_ok(rule: Rule, values: list) -> bool:
    """True when no value of a column breaks ``rule`` (False: look value by value). For
    numbers, one pass over the column: types, NaN, and the bounds by min and max."""
    present = [v for v in values if v is not None]
    if not present:
        return True
    k = rule.kind
    types = set(map(type, present))
    if k == "count":
        return types == {int} and rule.lo <= min(present) and max(present) <= rule.hi
    if k in ("km", "lat", "lon"):
        if not types <= {int, float}:
            return False
        total = sum(present)
        if total != total or total in (math.inf, -math.inf):
            return False
        return rule.lo <= min(present) and max(present) <= rule.hi
    if k == "date":
        if types != {str}:
            return False
        lo, hi = min(present), max(present)
        return EARLIEST_DATE <= lo and hi <= latest_date() and all(map(_is_iso_date, set(present)))
    return all(check(rule, v) is None for v in set(present) if v != "")


def is_encodable(s: str) -> bool:
    """False for text holding a lone surrogate (cannot be stored, printed or written)."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Refused:
    """A value a reader already knows breaks the rules (a JSON NaN, a duplicate key, a lone
    surrogate, a number too large to hold): the checker rejects its cell with ``reason``,
    naming the row and column. ``shown`` is what the message quotes."""

    __slots__ = ("shown", "reason", "digits")

    def __init__(self, shown: str, reason: str, digits: int | None = None):
        self.shown, self.reason, self.digits = shown, reason, digits

    def reason_for(self, rule: Rule | None) -> str:
        """The reason, naming the field's bounds for a number too large to hold."""
        if self.digits is not None and rule is not None and rule.hi is not None:
            return too_large(rule, self.digits)
        return self.reason

    def __str__(self) -> str:
        return self.shown

    __repr__ = __str__


# ---------------------------------------------------------------- showing values safely
# ---------------------------------------------------------------- KST and UTC, once
KST = _dt.timezone(_dt.timedelta(hours=9), "KST")


def utc_text(t: _dt.datetime) -> str:
    """'YYYY-MM-DDTHH:MM:SSZ' with a four-digit year (strftime drops the zeros before 1000)."""
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def utc_to_kst(time_utc: str) -> tuple[str, str]:
    """'2016-06-21T20:56:00Z' -> ('2016-06-22', '05:56'): the Korean date and time.
    Raises ``OverflowError`` when the Korean date is past year 9999."""
    t = _dt.datetime.fromisoformat(time_utc.replace("Z", "+00:00"))
    if t.tzinfo is not None:
        t = t.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    k = t + _dt.timedelta(hours=9)
    return f"{k.year:04d}-{k.month:02d}-{k.day:02d}", f"{k.hour:02d}:{k.minute:02d}"


def kst_to_utc(date: str, time_kst: str) -> str:
    """('2026-01-27', '15:50') -> '2026-01-27T06:50:00Z'. Raises ``OverflowError`` when the
    UTC time falls before year 1."""
    d = _dt.date.fromisoformat(date)
    hh, mm = (int(x) for x in time_kst.split(":"))
    return utc_text(_dt.datetime(d.year, d.month, d.day, hh, mm) - _dt.timedelta(hours=9))


def kst_to_utc_many(dates: list[str], times: list[str]) -> list[str]:
    """:func:`kst_to_utc` for many (date, HH:MM) pairs at once (numpy).

    Dates must be ISO dates from 1000-01-02 on (numpy writes earlier years differently);
    times 'HH:MM'.
    """
    epoch = _dt.date(1970, 1, 1)
    day_min = {d: (_dt.date.fromisoformat(d) - epoch).days * 1440 - 9 * 60 for d in dict.fromkeys(dates)}
    clock_min = {t: int(t[:2]) * 60 + int(t[3:5]) for t in dict.fromkeys(times)}
    minutes = (np.array(list(map(day_min.__getitem__, dates)), dtype=np.int64)
               + np.array(list(map(clock_min.__getitem__, times)), dtype=np.int64))
    text = np.datetime_as_string(minutes.astype("datetime64[m]"), unit="s")
    return [s + "Z" for s in text.tolist()]
