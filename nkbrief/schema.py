"""The launch-event data model: field names, types, vocabularies and validation.

The field names here are the contract for the CLI's JSON, for exports and for imports.
Everything is plain Python so that it runs headless.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from dataclasses import dataclass, field

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

#: Event fields in display/export order, with their kind.
EVENT_FIELDS: dict[str, str] = {
    "id": "str",
    "date": "date",
    "date_precision": "precision",
    "time_kst": "hhmm",
    "time_utc": "iso",
    "missile_name": "str",
    "missile_class": "class",
    "count": "count",
    "count_qualifier": "qualifier",
    "distance_km": "km",
    "distance_km_max": "km",
    "distance_qualifier": "qualifier",
    "apogee_km": "km",
    "apogee_km_max": "km",
    "apogee_qualifier": "qualifier",
    "launch_site": "str",
    "latitude": "lat",
    "longitude": "lon",
    "landing_area": "str",
    "outcome": "outcome",
    "confirmation": "confirmation",
    "leader_attended": "bool",
    "description": "str",
    "sources": "list",
    "provenance": "str",
    "notes": "str",
}

#: Fields added in store schema 2 (issue 14): the qualifiers and the compiler's provenance notes.
#: ``notes`` holds the analyst's own notes only; ``provenance`` the compiler's reconciliation notes.
EVENT_FIELDS_V2 = ("count_qualifier", "distance_qualifier", "apogee_qualifier", "provenance")


def is_export_header(fields) -> bool:
    """Whether a header is an nkbrief export's: every event field, or every field of schema 1
    (an export written before the qualifiers and provenance existed)."""
    f = set(fields) - {"missiles"}
    return f == set(EVENT_FIELDS) or f == set(EVENT_FIELDS) - set(EVENT_FIELDS_V2)

#: Per-missile row fields (CNS-style); each row belongs to one event.
MISSILE_FIELDS: dict[str, str] = {
    "event_id": "str",
    "seq": "count",
    "missile_name": "str",
    "missile_class": "class",
    "time_utc": "iso",
    "time_kst": "hhmm",
    "distance_km": "km",
    "distance_km_max": "km",
    "apogee_km": "km",
    "apogee_km_max": "km",
    "landing_area": "str",
    "outcome": "outcome",
    "confirmation": "confirmation",
    "source_ref": "str",
    "notes": "str",
}

CALENDAR_FIELDS: dict[str, str] = {
    "id": "str",
    "date": "date",
    "end_date": "date",
    "category": "category",
    "title": "str",
    "description": "str",
    "sources": "list",
}

STATEMENT_FIELDS: dict[str, str] = {
    "event_id": "str",
    "actor": "actor",
    "summary": "str",
    "source": "str",
}

#: Limits that keep a hostile file from exhausting memory; documented in the README.
MAX_TEXT_CHARS = 32_000
MAX_DISTANCE_KM = 50_000.0  # beyond any ballistic trajectory; SLVs go to orbit, recorded as apogee
MAX_APOGEE_KM = 100_000.0

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_SLUG = re.compile(r"[^a-z0-9]+")

KST = _dt.timezone(_dt.timedelta(hours=9), "KST")


def slug(text: str | None, max_len: int = 40) -> str:
    """Lower-case ASCII slug for ids: 'North of Pyongyang' -> 'north-of-pyongyang'."""
    s = _SLUG.sub("-", (text or "").lower()).strip("-")
    s = s[:max_len].rstrip("-")
    if not s and text and text.strip():
        # Hangul or other non-Latin text: a short stable digest keeps two sites apart.
        s = "u" + hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:8]
    return s or "unknown"


def make_event_id(date: str, missile_class: str | None, launch_site: str | None,
                  time_kst: str | None = None) -> str:
    """A stable, readable event id: '2026-01-27-srbm-north-of-pyongyang'.

    ``time_kst`` ('17:54' -> '-1754') tells apart two launches from one site on one day."""
    base = f"{date}-{slug(missile_class or 'unknown', 10)}-{slug(launch_site)}"
    return f"{base}-{time_kst.replace(':', '')}" if time_kst else base


def empty_event() -> dict:
    """A new event dict with every field present and null/empty defaults."""
    ev = {k: None for k in EVENT_FIELDS}
    ev.update(date_precision="day", missile_class="unknown", outcome="unknown",
              confirmation="not stated", sources=[], description="", provenance="", notes="")
    return ev


_QUALIFIER_PATTERNS = (
    ("over", r"^(?:more than|over|above|in excess of|>(?!=))|(?:\+|초과)$"),
    ("at least", r"^(?:at least|a minimum of|≥|>=)|이상$"),
    ("up to", r"^(?:up to|as (?:far|high) as|a maximum of|≤|<=)|이하$"),
    ("under", r"^(?:less than|under|below|fewer than|<(?!=))|미만$"),
    ("about", r"^(?:about|approx(?:\.|imately)?|around|roughly|some|nearly|an estimated|estimated|~|≈|약)"
              r"|(?:가량|정도|내외)$"),
)


def qualifier_of(text: object) -> str | None:
    """The qualifier a number is written with: 'over 700 km' -> 'over', '~350' -> 'about',
    '450 km 이상' -> 'at least'; None for a plain number or anything that is not text."""
    if not isinstance(text, str):
        return None
    t = re.sub(r"\s+", " ", text.strip().lower())
    for q, pat in _QUALIFIER_PATTERNS:
        if re.search(pat, t):
            return q
    return None


def number_text(value: float | int | None, value_max: float | int | None = None,
                qualifier: str | None = None, unit: str = "") -> str:
    """A number as the source states it: '>700 km', '~350 km', '≥7', '360–540 km'; '' when unknown."""
    if value is None:
        return ""

    def fmt(v: float | int) -> str:
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"

    s = fmt(value)
    if value_max is not None and value_max != value:
        s += f"–{fmt(value_max)}"
    s = QUALIFIER_SIGNS.get(qualifier or "", "") + s
    return f"{s} {unit}" if unit else s


def utc_to_kst(time_utc: str) -> tuple[str, str]:
    """'2016-06-21T20:56:00Z' -> ('2016-06-22', '05:56'): the Korean date and time."""
    t = _dt.datetime.fromisoformat(time_utc.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    k = t.astimezone(KST)
    return k.date().isoformat(), k.strftime("%H:%M")


def kst_to_utc(date: str, time_kst: str) -> str:
    """('2026-01-27', '15:50') -> '2026-01-27T06:50:00Z'."""
    d = _dt.date.fromisoformat(date)
    hh, mm = (int(x) for x in time_kst.split(":"))
    k = _dt.datetime(d.year, d.month, d.day, hh, mm, tzinfo=KST)
    return k.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Problem:
    """One thing wrong with one value, phrased for the analyst."""

    field: str
    value: object
    reason: str

    def __str__(self) -> str:
        return f"{self.field} {self.value!r} {self.reason}"


def _is_iso_date(v: object) -> bool:
    if not isinstance(v, str):
        return False
    try:
        _dt.date.fromisoformat(v)
    except ValueError:
        return False
    return len(v) == 10


def check_value(kind: str, name: str, v: object) -> Problem | None:
    """Check one already-parsed value against its field kind; None when fine."""
    if v is None:
        return None
    if kind == "str":
        if not isinstance(v, str):
            return Problem(name, v, "is not text")
        if len(v) > MAX_TEXT_CHARS:
            return Problem(name, v[:40] + "…", f"is longer than {MAX_TEXT_CHARS:,} characters")
    elif kind == "date":
        if not _is_iso_date(v):
            return Problem(name, v, "is not a date (YYYY-MM-DD)")
    elif kind == "precision" and v not in DATE_PRECISIONS:
        return Problem(name, v, f"is not one of {', '.join(DATE_PRECISIONS)}")
    elif kind == "hhmm":
        if not isinstance(v, str) or not _HHMM.match(v):
            return Problem(name, v, "is not a time (HH:MM)")
    elif kind == "iso":
        try:
            _dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        except ValueError:
            return Problem(name, v, "is not an ISO 8601 time")
    elif kind == "class" and v not in MISSILE_CLASSES:
        return Problem(name, v, f"is not a missile class ({', '.join(MISSILE_CLASSES)})")
    elif kind == "count":
        if isinstance(v, bool) or not isinstance(v, int):
            return Problem(name, v, "is not a whole number")
        if v < 1:
            return Problem(name, v, "must be 1 or more")
    elif kind == "km":
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            return Problem(name, v, "is not a number")
        if v < 0:
            return Problem(name, v, "must not be negative")
        limit = MAX_APOGEE_KM if name.startswith("apogee") else MAX_DISTANCE_KM
        if v > limit:
            return Problem(name, v, f"is over {limit:,.0f} km")
    elif kind == "lat":
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not -90 <= v <= 90:
            return Problem(name, v, "is not a latitude (-90 to 90)")
    elif kind == "lon":
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not -180 <= v <= 180:
            return Problem(name, v, "is not a longitude (-180 to 180)")
    elif kind == "outcome" and v not in OUTCOMES:
        return Problem(name, v, f"is not one of {', '.join(OUTCOMES)}")
    elif kind == "confirmation" and v not in CONFIRMATIONS:
        return Problem(name, v, f"is not one of {', '.join(CONFIRMATIONS)}")
    elif kind == "qualifier" and v not in QUALIFIERS:
        return Problem(name, v, f"is not one of {', '.join(QUALIFIERS)}")
    elif kind == "bool" and not isinstance(v, bool):
        return Problem(name, v, "is not yes/no")
    elif kind == "list":
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            return Problem(name, v, "is not a list of text")
    elif kind == "category" and v not in CALENDAR_CATEGORIES:
        return Problem(name, v, f"is not a calendar category ({', '.join(CALENDAR_CATEGORIES)})")
    elif kind == "actor" and v not in ACTORS:
        return Problem(name, v, f"is not one of {', '.join(ACTORS)}")
    return None


@dataclass
class ValidationReport:
    """Problems found in one record; empty means valid."""

    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.problems)


def _validate(record: dict, fields: dict[str, str], required: tuple[str, ...]) -> ValidationReport:
    rep = ValidationReport()
    for name in record:
        if name not in fields:
            rep.problems.append(Problem(name, record[name], "is not a known field"))
    for name in required:
        if record.get(name) in (None, ""):
            rep.problems.append(Problem(name, record.get(name), "is required"))
    for name, kind in fields.items():
        if name in record and record[name] not in (None, ""):
            p = check_value(kind, name, record[name])
            if p:
                rep.problems.append(p)
    return rep


def _check_pair(rep: ValidationReport, rec: dict, lo: str, hi: str) -> None:
    a, b = rec.get(lo), rec.get(hi)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b < a:
        rep.problems.append(Problem(hi, b, f"is less than {lo} ({a})"))


def validate_event(ev: dict) -> ValidationReport:
    """Check an event dict (already parsed to Python types) against the schema."""
    rep = _validate(ev, EVENT_FIELDS, ("id", "date", "missile_class"))
    _check_pair(rep, ev, "distance_km", "distance_km_max")
    _check_pair(rep, ev, "apogee_km", "apogee_km_max")
    if ev.get("date_precision") in ("month", "year") and ev.get("time_kst"):
        rep.problems.append(Problem("time_kst", ev["time_kst"], "given for a date known only to the "
                                    + ev["date_precision"]))
    if (ev.get("latitude") is None) != (ev.get("longitude") is None):
        rep.problems.append(Problem("latitude", ev.get("latitude"), "and longitude must be given together"))
    return rep


def validate_missile(m: dict) -> ValidationReport:
    rep = _validate(m, MISSILE_FIELDS, ("event_id",))
    _check_pair(rep, m, "distance_km", "distance_km_max")
    _check_pair(rep, m, "apogee_km", "apogee_km_max")
    return rep


def validate_calendar_entry(c: dict) -> ValidationReport:
    rep = _validate(c, CALENDAR_FIELDS, ("id", "date", "category", "title"))
    if _is_iso_date(c.get("date")) and _is_iso_date(c.get("end_date")) and c["end_date"] < c["date"]:
        rep.problems.append(Problem("end_date", c["end_date"], f"is before date ({c['date']})"))
    return rep


def validate_statement(s: dict) -> ValidationReport:
    return _validate(s, STATEMENT_FIELDS, ("event_id", "actor", "summary"))
