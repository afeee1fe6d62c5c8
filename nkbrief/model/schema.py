"""The launch-event data model: field names, types, vocabularies and validation.

The field names here are the contract for the CLI's JSON, for exports and for imports.
Everything is plain Python so that it runs headless.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from . import rules
from .rules import (  # noqa: F401 - the vocabularies are read from here by most of the code
    ACTORS,
    CALENDAR_CATEGORIES,
    CONFIRMATIONS,
    DATE_PRECISIONS,
    KST,
    MAX_TEXT_CHARS,
    MISSILE_CLASSES,
    OUTCOMES,
    QUALIFIER_SIGNS,
    QUALIFIERS,
    kst_to_utc,
    utc_to_kst,
)

#: Event fields in display/export order, with their kind (the rules: :mod:`nkbrief.model.rules`).
EVENT_FIELDS: dict[str, str] = {n: rules.kind_name(r) for n, r in rules.EVENT_RULES.items()}
#: Per-missile row fields (CNS-style); each row belongs to one event.
MISSILE_FIELDS: dict[str, str] = {n: rules.kind_name(r) for n, r in rules.MISSILE_RULES.items()}
CALENDAR_FIELDS: dict[str, str] = {n: rules.kind_name(r) for n, r in rules.CALENDAR_RULES.items()}
STATEMENT_FIELDS: dict[str, str] = {n: rules.kind_name(r) for n, r in rules.STATEMENT_RULES.items()}

#: Fields added in store schema 3 (issue 14; schema 2 added event versions): the qualifiers and the compiler's provenance notes.
#: ``notes`` holds the analyst's own notes only; ``provenance`` the compiler's reconciliation notes.
EVENT_FIELDS_V2 = ("count_qualifier", "distance_qualifier", "apogee_qualifier", "provenance")


def is_export_header(fields) -> bool:
    """Whether a header is an nkbrief export's: every event field, or every field of schema 1
    (an export written before the qualifiers and provenance existed)."""
    f = set(fields) - {"missiles"}
    return f == set(EVENT_FIELDS) or f == set(EVENT_FIELDS) - set(EVENT_FIELDS_V2)


#: Upper bounds of distances and apogees (:mod:`nkbrief.model.rules`).
MAX_DISTANCE_KM = rules.DISTANCE_MAX_KM
MAX_APOGEE_KM = rules.APOGEE_MAX_KM

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str | None, max_len: int = 40) -> str:
    """Lower-case ASCII slug for ids: 'North of Pyongyang' -> 'north-of-pyongyang'."""
    s = _SLUG.sub("-", (text or "").lower()).strip("-")
    s = s[:max_len].rstrip("-")
    if not s and text and text.strip():
        # Hangul or other non-Latin text: a short stable digest keeps two sites apart.
        s = "u" + hashlib.sha1(text.strip().encode("utf-8", "surrogatepass")).hexdigest()[:8]
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


@dataclass
class Problem:
    """One thing wrong with one value, phrased for the analyst."""

    field: str
    value: object
    reason: str

    def __str__(self) -> str:
        return f"{self.field} {self.value!r} {self.reason}"


def _is_iso_date(v: object) -> bool:
    return rules._is_iso_date(v)


def check_value(kind: str, name: str, v: object) -> Problem | None:
    """Check one already-parsed value against its field's rule (:mod:`nkbrief.model.rules`);
    None when fine."""
    if v is None:
        return None
    reason = rules.check(rules.rule_for(name, kind), v)
    if reason is None:
        return None
    if kind == "str" and isinstance(v, str) and len(v) > MAX_TEXT_CHARS:
        v = v[:40] + "…"
    return Problem(name, v, reason)


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
