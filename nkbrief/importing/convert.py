"""Turn one mapped row of a colleague's table into an event, or say exactly why not.

Each column gets a converter for its target field. A converter takes the raw cell (text
from CSV, typed values from Excel or JSON) and returns the field values it fills, or
raises ``ValueError`` whose message completes "row 14: Date '31-Feb-26' ...". Converters
are memoised per column: a 100k-row file repeats its dates, classes and distances.

Two modes:

- **colleague files** (the default): text is trimmed, "Unknown"/"N/A"/"-" mean blank, and
  missing pieces are derived (time_utc from a KST time and back; a UTC clock time next to
  a date reads that date as the UTC date, as its label says, and the Korean date follows).
- **exact** (nkbrief's own exports, recognised by their header): every value is taken as
  written, nothing is derived, so an export round-trips unchanged.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import re
from collections.abc import Callable, Sequence

from ..model import parse, rules, schema

#: Target kinds that hold free text.
TEXT_FIELDS = ("id", "missile_name", "launch_site", "landing_area", "description", "provenance", "notes")
#: Fields the schema fills with "" rather than None.
EMPTY_STRING_FIELDS = ("description", "notes")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

CLASS_WORDS = {
    "srbm": "SRBM", "short-range ballistic missile": "SRBM", "short range ballistic missile": "SRBM",
    "short-range missile": "SRBM", "short-range": "SRBM", "단거리탄도미사일": "SRBM",
    "단거리 탄도미사일": "SRBM", "단거리": "SRBM",
    "crbm": "CRBM", "close-range ballistic missile": "CRBM", "근거리탄도미사일": "CRBM",
    "mrbm": "MRBM", "medium-range ballistic missile": "MRBM", "준중거리탄도미사일": "MRBM",
    "irbm": "IRBM", "intermediate-range ballistic missile": "IRBM", "중거리탄도미사일": "IRBM",
    "중장거리탄도미사일": "IRBM",
    "icbm": "ICBM", "intercontinental ballistic missile": "ICBM", "대륙간탄도미사일": "ICBM",
    "slbm": "SLBM", "submarine-launched ballistic missile": "SLBM", "잠수함발사탄도미사일": "SLBM",
    "slv": "SLV", "space launch vehicle": "SLV", "satellite launch": "SLV", "satellite": "SLV",
    "satellite launch vehicle": "SLV", "위성": "SLV", "위성발사체": "SLV", "우주발사체": "SLV",
    "hgv": "HGV", "hypersonic": "HGV", "hypersonic missile": "HGV", "hypersonic glide vehicle": "HGV",
    "극초음속": "HGV", "극초음속미사일": "HGV",
    "cruise": "cruise", "cruise missile": "cruise", "strategic cruise missile": "cruise",
    "long-range cruise missile": "cruise", "lacm": "cruise", "순항미사일": "cruise",
    "mlrs": "MLRS", "multiple rocket launcher": "MLRS", "multiple launch rocket system": "MLRS",
    "rocket artillery": "MLRS", "방사포": "MLRS", "초대형방사포": "MLRS",
    "unknown": "unknown", "ballistic missile": "unknown", "ballistic missile (type unknown)": "unknown",
    "unidentified ballistic missile": "unknown", "탄도미사일": "unknown", "미상": "unknown",
}
_CLASS_KEYWORDS = (
    ("CRBM", ("close-range", "근거리")), ("ICBM", ("intercontinental", "대륙간")),
    ("IRBM", ("intermediate", "중거리")), ("MRBM", ("medium-range", "준중거리")),
    ("SLBM", ("submarine", "잠수함")), ("HGV", ("hypersonic", "극초음속")),
    ("cruise", ("cruise", "순항")), ("MLRS", ("rocket launcher", "rocket system", "방사포")),
    ("SLV", ("satellite", "space launch", "위성", "발사체")), ("SRBM", ("short-range", "단거리")),
)
OUTCOME_WORDS = {
    "success": "success", "successful": "success", "succeeded": "success", "성공": "success",
    "failure": "failure", "failed": "failure", "fail": "failure", "exploded": "failure",
    "실패": "failure", "unknown": "unknown", "미상": "unknown", "불명": "unknown",
}
CONFIRMATION_WORDS = {
    "confirmed": "confirmed", "yes": "confirmed", "확인": "confirmed", "확인됨": "confirmed",
    "unconfirmed": "unconfirmed", "unverified": "unconfirmed", "suspected": "unconfirmed",
    "no": "unconfirmed", "미확인": "unconfirmed", "추정": "unconfirmed",
    "not stated": "not stated", "미기재": "not stated",
}
QUALIFIER_WORDS = {
    "about": "about", "~": "about", "approximately": "about", "around": "about", "약": "about",
    "over": "over", ">": "over", "more than": "over", "초과": "over",
    "at least": "at least", "≥": "at least", ">=": "at least", "이상": "at least",
    "up to": "up to", "≤": "up to", "<=": "up to", "이하": "up to",
    "under": "under", "<": "under", "less than": "under", "미만": "under",
}
PRECISION_WORDS = {"day": "day", "month": "month", "year": "year", "일": "day", "월": "month", "년": "year"}

Converter = Callable[[object], dict]


class CellError(ValueError):
    """A cell that cannot be used, with the reason phrased for the analyst."""


def _check_text(s: str) -> str:
    if len(s) > schema.MAX_TEXT_CHARS:
        raise CellError(f"is longer than {schema.MAX_TEXT_CHARS:,} characters")
    if _CONTROL.search(s):
        raise CellError("contains control characters")
    if not s.isascii() and not rules.is_encodable(s):
        raise CellError("holds a lone surrogate (not a character)")
    return s


def text_value(v: object, exact: bool) -> str | None:
    """Cell text, or None for a blank (and, for colleague files, a null token)."""
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (list, dict)):
        raise CellError("is a list, not text")
    if isinstance(v, _dt.datetime):
        s = v.isoformat(sep=" ")
    elif isinstance(v, bool):
        s = "yes" if v else "no"
    elif isinstance(v, float) and v.is_integer():
        s = str(int(v))
    else:
        s = str(v)
    if exact:
        return _check_text(s) if s != "" else None
    s = s.replace("\u00a0", " ").strip()
    if not s or parse.is_null(s):
        return None
    return _check_text(s)


def _vocab(words: dict[str, str], allowed: tuple[str, ...]) -> Callable[[object, bool], str | None]:
    def conv(v: object, exact: bool) -> str | None:
        s = text_value(v, exact)
        if s is None:
            return None
        if exact:
            if s in allowed:
                return s
            raise CellError(f"is not one of {', '.join(allowed)}")
        k = re.sub(r"\s+", " ", s.lower())
        if k in words:
            return words[k]
        raise CellError(f"is not one of {', '.join(allowed)}")
    return conv


outcome_value = _vocab(OUTCOME_WORDS, schema.OUTCOMES)
confirmation_value = _vocab(CONFIRMATION_WORDS, schema.CONFIRMATIONS)
precision_value = _vocab(PRECISION_WORDS, schema.DATE_PRECISIONS)
qualifier_value = _vocab(QUALIFIER_WORDS, schema.QUALIFIERS)


def class_value(v: object, exact: bool) -> str | None:
    s = text_value(v, exact)
    if s is None:
        return None
    if s in schema.MISSILE_CLASSES:
        return s
    if exact:
        raise CellError(f"is not a missile class ({', '.join(schema.MISSILE_CLASSES)})")
    k = re.sub(r"\s+", " ", s.lower()).strip(" .")
    if k in CLASS_WORDS:
        return CLASS_WORDS[k]
    if k.endswith("s") and k[:-1] in CLASS_WORDS:  # plurals: "SRBMs"
        return CLASS_WORDS[k[:-1]]
    for cls in schema.MISSILE_CLASSES:  # "SRBM (KN-23)"
        if re.search(rf"\b{re.escape(cls.lower())}s?\b", k):
            return cls
    for cls, words in _CLASS_KEYWORDS:
        if any(w in k for w in words):
            return cls
    raise CellError(f"is not a missile class ({', '.join(schema.MISSILE_CLASSES)})")


def date_value(v: object, exact: bool, order: str | None = None) -> tuple[str, str] | None:
    if v is None or (isinstance(v, str) and v == ""):
        return None
    if isinstance(v, _dt.datetime):
        return v.date().isoformat(), "day"
    if isinstance(v, _dt.date):
        return v.isoformat(), "day"
    if exact:
        s = str(v)
        try:
            d = _dt.date.fromisoformat(s)
        except ValueError:
            raise CellError("is not a date (YYYY-MM-DD)") from None
        if len(s) != 10:
            raise CellError("is not a date (YYYY-MM-DD)")
        return d.isoformat(), "day"
    if isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-":
        try:  # the common ISO form, without the general parser
            return _dt.date.fromisoformat(v).isoformat(), "day"
        except ValueError:
            pass
    if isinstance(v, str) and parse.is_null(v):
        return None
    try:
        return parse.parse_date(v, order=order)
    except ValueError as e:
        raise CellError(str(e)) from None


def clock_value(v: object) -> str | None:
    """A time of day 'HH:MM' from a time cell, '10:22:00 PM', '15:50 (KST)', '2026-01-27 15:50'."""
    if isinstance(v, _dt.datetime):
        return v.strftime("%H:%M")
    try:
        return parse.parse_time(v)
    except ValueError:
        pass
    if isinstance(v, str):
        try:
            return _dt.datetime.fromisoformat(v.strip().replace("Z", "+00:00")).strftime("%H:%M")
        except ValueError:
            pass
    raise CellError("is not a time")


_SOURCE_SPLITS = re.compile(r"[;\n\r|]")
_SPLITS_BUT_LF = re.compile(r"[;\r|]")
_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}")


def utc_value(v: object, exact: bool) -> dict:
    """{'time_utc': ISO instant} for full date-times, {'_utc_clock': 'HH:MM'} for a clock."""
    if exact:
        s = text_value(v, True)
        if s is None:
            return {}
        try:
            _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise CellError("is not an ISO 8601 time") from None
        if not rules.utc_in_bounds(s):
            raise CellError(rules.out_of_bounds(rules.TIME_UTC))
        return {"time_utc": s}
    if v is None or (isinstance(v, str) and parse.is_null(v)):
        return {}
    if isinstance(v, _dt.datetime) and v.year > 1900:
        t = v if v.tzinfo is None else v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return {"time_utc": _utc_text(t)}
    if isinstance(v, str) and _ISO_INSTANT.match(v.strip()):
        s = v.strip()
        try:
            t = _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise CellError("is not a date and time") from None
        if t.tzinfo is not None:
            t = t.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        if not rules.utc_in_bounds(_utc_text(t)):
            raise CellError(rules.out_of_bounds(rules.TIME_UTC))
        return {"time_utc": _utc_text(t)}
    return {"_utc_clock": clock_value(v)}


def km_value(v: object, unit: str | None, exact: bool = False) -> tuple[float | None, float | None]:
    if exact and isinstance(v, str):
        try:  # an export writes repr(float): '350.0', '1e-05'
            f = float(v)
        except ValueError:
            pass
        else:
            if math.isnan(f) or math.isinf(f):
                raise CellError("is not a distance")
            if f < 0:
                raise CellError("must not be negative")
            return f, None
    if isinstance(v, str) and unit != "mi":
        t = v.strip()
        num = t[:-2].rstrip() if t.endswith("km") else t
        if num and num.replace(".", "", 1).isdigit() and num.isascii():
            return float(num), None  # '350', '350 km', '2111.5km': no need for the general parser
    if isinstance(v, str) and unit == "mi" and re.fullmatch(r"\s*[\d.,]+\s*", v):
        v = v + " mi"
    elif isinstance(v, (int, float)) and not isinstance(v, bool) and unit == "mi":
        v = f"{v} mi"
    try:
        lo, hi = parse.parse_km(v)
    except parse.TooLarge:
        raise
    except ValueError as e:
        raise CellError(str(e)) from None
    for x in (lo, hi):
        if x is not None and (math.isnan(x) or math.isinf(x)):
            raise CellError("is not a distance")
    return lo, hi


def sources_value(v: object, exact: bool) -> list[str]:
    if v is None:
        return []
    if isinstance(v, list):
        if not all(isinstance(x, str) for x in v):
            raise CellError("is not a list of text")
        return [_check_text(x) for x in v] if exact else [
            _check_text(s) for s in parse.split_sources(v)]
    s = str(v)
    if s.startswith("[") and s.endswith("]"):
        try:
            items = json.loads(s)
        except json.JSONDecodeError:
            items = None
        if isinstance(items, list) and all(isinstance(x, str) for x in items):
            return [_check_text(x) for x in items]
    if not exact and parse.is_null(s):
        return []
    if not _SOURCE_SPLITS.search(s) and "http" not in s[1:]:
        t = s.replace("\u00a0", " ").strip()  # one plain source: what split_sources would return
        return [_check_text(t)] if t else []
    return [_check_text(x) for x in parse.split_sources(s)]


def make_converter(field: str, unit: str | None, exact: bool) -> Converter:
    """A function cell -> {field: value, ...} for one column (raises CellError)."""
    if field in TEXT_FIELDS:
        return lambda v: {field: text_value(v, exact)}
    if field == "date":
        order = unit if unit in ("dmy", "mdy") else None  # how to read '03/04/2026'

        def conv_date(v):
            r = date_value(v, exact, order)
            if r is None:
                return {}
            if not rules.date_in_bounds(r[0]):
                raise CellError(rules.out_of_bounds(rules.DATE))
            return {"date": r[0], "_precision_from_date": r[1]}
        return conv_date
    if field == "date_precision":
        return lambda v: {"date_precision": precision_value(v, exact)}
    if field == "time_kst":
        def conv_kst(v):
            if exact:
                s = text_value(v, True)
                if s is not None and schema.check_value("hhmm", field, s):
                    raise CellError("is not a time (HH:MM)")
                return {"time_kst": s}
            if v is None or (isinstance(v, str) and parse.is_null(v)):
                return {}
            return {"time_kst": clock_value(v)}
        return conv_kst
    if field == "time_utc":
        return lambda v: utc_value(v, exact)
    if field == "missile_class":
        return lambda v: {"missile_class": class_value(v, exact)}
    if field == "count":
        def conv_count(v):
            try:
                n = parse.parse_int(v)
            except parse.TooLarge as e:
                raise CellError(rules.too_large(rules.COUNT, e.digits)) from None
            except ValueError as e:
                raise CellError(str(e)) from None
            if n is not None:
                reason = rules.check(rules.COUNT, n)
                if reason:
                    raise CellError(reason)
            return {"count": n}
        return conv_count
    if field in ("distance_km", "apogee_km"):
        limit_name = field

        qual = field.replace("_km", "_qualifier")

        def conv_km(v):
            try:
                lo, hi = km_value(v, unit, exact)
            except parse.TooLarge as e:
                raise CellError(rules.too_large(rules.rule_for(field), e.digits)) from None
            for x in (lo, hi):
                p = schema.check_value("km", limit_name, x)
                if p:
                    raise CellError(p.reason)
            if hi is not None:
                return {field: lo, field + "_max": hi}
            q = None if exact else schema.qualifier_of(v)  # "over 700 km" keeps its "over"
            return {field: lo, qual: q} if q else {field: lo}
        return conv_km
    if field in ("distance_km_max", "apogee_km_max"):
        def conv_km_max(v):
            try:
                lo, hi = km_value(v, unit, exact)
            except parse.TooLarge as e:
                raise CellError(rules.too_large(rules.rule_for(field), e.digits)) from None
            val = hi if hi is not None else lo
            p = schema.check_value("km", field, val)
            if p:
                raise CellError(p.reason)
            return {field: val}
        return conv_km_max
    if field in ("latitude", "longitude"):
        kind = "lat" if field == "latitude" else "lon"

        def conv_coord(v):
            try:
                f = parse.parse_float(v)
            except parse.TooLarge:
                raise CellError(schema.check_value(kind, field, float("inf")).reason) from None
            except ValueError as e:
                raise CellError(str(e)) from None
            if f is not None:
                p = schema.check_value(kind, field, f)
                if p:
                    raise CellError(p.reason)
            return {field: f}
        return conv_coord
    if field == "outcome":
        return lambda v: {"outcome": outcome_value(v, exact)}
    if field == "confirmation":
        return lambda v: {"confirmation": confirmation_value(v, exact)}
    if field == "leader_attended":
        def conv_bool(v):
            try:
                return {"leader_attended": parse.parse_bool(v)}
            except ValueError as e:
                raise CellError(str(e)) from None
        return conv_bool
    if field == "sources":
        return lambda v: {"sources": sources_value(v, exact)}
    if field in ("count_qualifier", "distance_qualifier", "apogee_qualifier"):
        return lambda v: {field: qualifier_value(v, exact)}
    raise KeyError(field)


# ============================================================================ column-wise
class _Missing:
    """The converter gave no value for this key (a blank cell, or a key it did not fill)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self):
        return "MISSING"


MISSING = _Missing()
#: Pseudo-field of a column that fills no field: its text is kept in the notes.
UNMAPPED_TEXT = "_text"
_MAX_NULL_TOKEN = 12  # longer text is never a null token (the longest, "unknown", has 7)
_NULL_TOKENS = frozenset(parse.NULL_TOKENS)


def _text_converter(v: object) -> dict:
    return {UNMAPPED_TEXT: text_value(v, False)}


# Quick converters for the most common distinct values of a column: each returns, per value,
# what the per-cell converter returns ((True, {key: value})), or None to let it decide.
_QUICK_KM = re.compile(r"(?:~ ?)?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?: ?km)?")
_QUICK_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _quick_dates(field: str, values: list) -> list:
    """'2024-04-19' (ASCII digits, a real day) is that date, to the day."""
    out: list = []
    from_iso = _dt.date.fromisoformat
    lo, hi = rules.EARLIEST_DATE, rules.latest_date()  # outside: the per-cell converter says so
    for v in values:
        if v.__class__ is str and len(v) == 10 and v[4] == "-" and v[7] == "-" and v.isascii() \
                and (v[:4] + v[5:7] + v[8:]).isdigit():
            try:
                from_iso(v)
            except ValueError:
                out.append(None)
                continue
            out.append((True, {"date": v, "_precision_from_date": "day"}) if lo <= v <= hi else None)
        else:
            out.append(None)
    return out


def _quick_km(field: str, values: list) -> list:
    """'350', '350 km', '1,380.5 km', '~127.5km' (within the field's limit)."""
    out: list = []
    limit = rules.rule_for(field).hi
    match = _QUICK_KM.fullmatch
    for v in values:
        m = match(v) if v.__class__ is str and v.isascii() else None
        if m is None:
            out.append(None)
            continue
        x = float(m[1].replace(",", ""))
        if x > limit:
            out.append(None)
        elif v[0] == "~":  # '~350 km' keeps its qualifier, as the cell-by-cell converter does
            out.append((True, {field: x, field.replace("_km", "_qualifier"): "about"}))
        else:
            out.append((True, {field: x}))
    return out


def _quick_coordinates(field: str, values: list) -> list:
    """Plain decimal degrees within range."""
    out: list = []
    bound = 90 if field == "latitude" else 180
    match = _QUICK_NUMBER.fullmatch
    for v in values:
        if v.__class__ is str and v.isascii() and match(v):
            x = float(v)
            out.append((True, {field: x}) if -bound <= x <= bound else None)
        else:
            out.append(None)
    return out


#: (field, exact, unit) -> quick converter
_QUICK = {("date", False, None): _quick_dates, ("date", True, None): _quick_dates,
          ("date", False, "dmy"): _quick_dates, ("date", False, "mdy"): _quick_dates,
          ("distance_km", False, None): _quick_km, ("apogee_km", False, None): _quick_km,
          ("latitude", False, None): _quick_coordinates, ("longitude", False, None): _quick_coordinates}


class ColumnConverter:
    """Convert one column of a table, all its cells at once.

    The result is identical to calling the per-cell converter (:func:`make_converter`) on
    every non-blank cell: values, the keys they fill, and the reason of every rejected
    cell. Columns of free text and sources (mostly distinct values) take a vectorised path
    over the whole column; other columns are converted once per distinct value, through
    the same per-cell converter, and the results spread back to the rows. Any cell a fast
    path is not sure about goes through the per-cell converter (``tests/core/
    test_import_fastpath.py`` checks the two agree on generated messy columns).
    """

    def __init__(self, field: str, unit: str | None, exact: bool):
        # unmapped columns are colleagues' text: trimmed, null words blank (never exact)
        self.field, self.unit, self.exact = field, unit, exact and field != UNMAPPED_TEXT
        self.fn = _text_converter if field == UNMAPPED_TEXT else make_converter(field, unit, exact)
        self.cache: dict = {}

    def cell(self, v: object) -> tuple[bool, dict | str]:
        """One non-blank cell: (True, {key: value}) or (False, reason). Memoised."""
        cls = v.__class__
        if cls is rules.Refused:
            return False, v.reason_for(rules.EVENT_RULES.get(self.field))
        if cls is list or cls is dict:
            try:
                return True, self.fn(v)
            except CellError as e:
                return False, str(e)
        key = v if cls is str else (cls, v)
        hit = self.cache.get(key)
        if hit is None:
            try:
                hit = (True, self.fn(v))
            except CellError as e:
                hit = (False, str(e))
            if len(self.cache) < 200_000:
                self.cache[key] = hit
        return hit

    def column(self, cells: Sequence, *, text_only: bool = False) -> tuple[dict[str, list], list[int]]:
        """All cells of a column (None or "" = blank).

        Returns, for each key the converter fills, a list with one value per cell
        (:data:`MISSING` where the cell is blank, rejected, or did not fill that key), and
        the positions of the rejected cells (their reasons: :meth:`cell`). ``text_only``
        promises that every cell is text or None (a CSV), sparing a look at each cell.
        """
        kinds = {str, type(None)} if text_only else set(map(type, cells))
        if kinds <= {str, type(None)}:
            if self.field in TEXT_FIELDS or self.field == UNMAPPED_TEXT:
                index = dict.fromkeys(cells)
                if len(index) * 4 < len(cells):  # few distinct values: each converted once
                    return self._by_value(cells, kinds, index)
                out = self._text_column(cells)
                if out is not None:
                    return out
            elif self.field == "sources" and not self.exact:
                out = self._sources_column(cells)
                if out is not None:
                    return out
        elif list in kinds or dict in kinds:
            return self._cellwise(cells)
        return self._by_value(cells, kinds)

    # ---------------------------------------------------------------- paths
    def _cellwise(self, cells: Sequence) -> tuple[dict[str, list], list[int]]:
        keyed: dict[str, list] = {}
        bad: list[int] = []
        n = len(cells)
        for i, v in enumerate(cells):
            if v is None or v == "":
                continue
            ok, res = self.cell(v)
            if not ok:
                bad.append(i)
                continue
            for k, x in res.items():
                keyed.setdefault(k, [MISSING] * n)[i] = x
        return keyed, bad

    def _by_value(self, cells: Sequence, kinds: set, index: dict | None = None) -> tuple[dict[str, list], list[int]]:
        """Convert each distinct value once, then spread the results over the cells."""
        if kinds <= {str, type(None)}:
            keys = cells
        else:  # 1, 1.0 and True are equal in Python but not the same cell
            keys = [v if v.__class__ is str or v is None else (v.__class__, v) for v in cells]
        if index is None:
            index = dict.fromkeys(keys)
        distinct = [key[1] if key.__class__ is tuple else key for key in index]
        quick = _QUICK.get((self.field, self.exact, self.unit))
        results: list = quick(self.field, distinct) if quick else [None] * len(distinct)
        for i, v in enumerate(distinct):
            if results[i] is None and not (v is None or v == ""):  # (blank: stays None)
                results[i] = self.cell(v)
        # the keys filled, in the order first seen (most values fill the same few keys)
        shapes = dict.fromkeys(tuple(r[1]) if r[0] else None for r in results if r is not None)
        rejected = None in shapes
        filled: dict[str, None] = dict.fromkeys(k for shape in shapes if shape for k in shape)
        keyed: dict[str, list] = {}
        if len(filled) == 1 and not rejected:  # one lookup per cell, straight to the value
            (k,) = filled
            per_value = dict(zip(index, (MISSING if r is None else r[1].get(k, MISSING) for r in results)))
            keyed[k] = list(map(per_value.__getitem__, keys))
            return keyed, []
        for i, key in enumerate(index):
            index[key] = i
        codes = list(map(index.__getitem__, keys))
        for k in filled:
            values = [MISSING if r is None or not r[0] else r[1].get(k, MISSING) for r in results]
            keyed[k] = list(map(values.__getitem__, codes))
        bad: list[int] = []
        if rejected:
            is_bad = [r is not None and not r[0] for r in results]
            bad = [i for i, c in enumerate(codes) if is_bad[c]]
        return keyed, bad

    def _plain_text(self, cells: Sequence) -> tuple[str, bool, int] | None:
        """(the non-blank cells joined by line breaks, whether they hold NBSP, how many there
        are), or None when a cell needs the per-cell checks (control characters, too long)."""
        present = [v for v in cells if v]
        if not present:
            return "", False, 0
        if max(map(len, present)) > schema.MAX_TEXT_CHARS:
            return None
        joined = "\n".join(present)  # a line break is allowed text, so it hides nothing
        if _CONTROL.search(joined):
            return None
        return joined, "\u00a0" in joined, len(present)

    def _text_column(self, cells: Sequence) -> tuple[dict[str, list], list[int]] | None:
        plain = self._plain_text(cells)
        if plain is None:
            return None
        if self.exact:
            values = [v if v else MISSING for v in cells]
        else:
            if plain[1]:
                stripped = [v.replace("\u00a0", " ").strip() if v else MISSING for v in cells]
            else:
                stripped = [v.strip() if v else MISSING for v in cells]
            nulls, most = _NULL_TOKENS, _MAX_NULL_TOKEN
            values = [s if s is MISSING or (s and (len(s) > most or s.lower() not in nulls)) else None
                      for s in stripped]
        return {self.field: values}, []

    def _sources_column(self, cells: Sequence) -> tuple[dict[str, list], list[int]] | None:
        plain = self._plain_text(cells)
        if plain is None:
            return None
        joined, nbsp, count = plain
        # any separator at all? (the joining line breaks are not in the cells)
        splits = _SPLITS_BUT_LF.search(joined) is not None or joined.count("\n") >= count
        nulls, most = _NULL_TOKENS, _MAX_NULL_TOKEN
        if not splits and "[" not in joined and "http" in joined:
            # "http" only where a cell starts? (NUL joins here: no cell holds one, see _plain_text)
            starts = "\x00" + "\x00".join(v for v in cells if v)
            if starts.count("http") == starts.count("\x00http"):
                return {"sources": self._single_sources(cells, nbsp)}, []
        elif not splits and "[" not in joined:
            return {"sources": self._single_sources(cells, nbsp)}, []
        values: list = []
        slow: list[int] = []
        for i, v in enumerate(cells):
            if not v:
                values.append(MISSING)
                continue
            if (v[0] == "[" and v[-1] == "]") or v.find("http", 1) >= 0 \
                    or (splits and _SOURCE_SPLITS.search(v)):
                values.append(MISSING)
                slow.append(i)
                continue
            t = (v.replace("\u00a0", " ") if nbsp else v).strip()
            values.append([t] if t and (len(t) > most or t.lower() not in nulls) else [])
        bad = []
        for i in slow:
            ok, res = self.cell(cells[i])
            if ok:
                values[i] = res.get("sources", MISSING)
            else:
                bad.append(i)
        return {"sources": values}, bad

    @staticmethod
    def _single_sources(cells: Sequence, nbsp: bool) -> list:
        """Sources of cells that each hold at most one source (no separator, no list, no
        second link): the trimmed text as a one-item list, [] for a null word."""
        if nbsp:
            stripped = [v.replace("\u00a0", " ").strip() if v else MISSING for v in cells]
        else:
            stripped = [v.strip() if v else MISSING for v in cells]
        most = _MAX_NULL_TOKEN
        short = {t.lower() for t in stripped if t is not MISSING and len(t) <= most}
        if "" in short or short & _NULL_TOKENS:
            return [t if t is MISSING else ([t] if t and (len(t) > most or t.lower() not in _NULL_TOKENS) else [])
                    for t in stripped]
        return [t if t is MISSING else [t] for t in stripped]


#: :func:`nkbrief.model.rules.kst_to_utc_many` (kept here for the importer's callers).
kst_to_utc_many = rules.kst_to_utc_many


_TEMPLATE = schema.empty_event()
#: exact mode: a blank cell is a null, never a default
_EXACT_TEMPLATE = dict.fromkeys(schema.EVENT_FIELDS) | {"description": "", "notes": ""}
_utc_text = rules.utc_text


class _OutOfRange(ValueError):
    """A time whose other zone falls outside the calendar (before year 1 or after 9999)."""


@functools.lru_cache(maxsize=1 << 16)
def _kst_to_utc(date: str, time_kst: str) -> str:
    try:
        return rules.kst_to_utc(date, time_kst)
    except OverflowError:
        raise _OutOfRange from None


@functools.lru_cache(maxsize=1 << 16)
def _utc_to_kst(time_utc: str) -> tuple[str, str]:
    try:
        return rules.utc_to_kst(time_utc)
    except OverflowError:
        raise _OutOfRange from None


def finish_event(ev: dict, exact: bool) -> tuple[dict, list[tuple[str, object, str]], list[str]]:
    """Complete a row's field values into an event.

    Returns (event, problems as (field, value, reason), notes to add). ``ev`` holds what the
    converters produced, plus the private keys ``_precision_from_date``/``_utc_clock``.
    """
    problems: list[tuple[str, object, str]] = []
    notes: list[str] = []
    prec_from_date = ev.pop("_precision_from_date", None)
    clock_utc = ev.pop("_utc_clock", None)
    out = (_EXACT_TEMPLATE if exact else _TEMPLATE).copy()
    out["sources"] = []
    for k, v in ev.items():
        if v is not None or k not in ("description", "notes", "sources"):
            out[k] = list(v) if k == "sources" else v  # cached values are shared between rows
    for k in EMPTY_STRING_FIELDS:
        if out[k] is None:
            out[k] = ""
    if out["sources"] is None:
        out["sources"] = []
    if not exact:
        if ev.get("date_precision") is None:
            out["date_precision"] = prec_from_date or "day"
        if out["missile_class"] is None:
            out["missile_class"] = "unknown"
        if out["outcome"] is None:
            out["outcome"] = "unknown"
        if out["confirmation"] is None:
            out["confirmation"] = "not stated"  # a blank never claims "confirmed"
        _derive_times(out, clock_utc, problems, notes)
    elif out["date_precision"] is None and out["date"] is not None:
        out["date_precision"] = prec_from_date or "day"
    if out["date"] is None:
        problems.append(("date", None, "is required"))
    return out, problems, notes


def cross_check(ev: dict) -> list[tuple[str, object, str]]:
    """The rules of :func:`nkbrief.model.schema.validate_event` that span fields, plus what the
    converters cannot see (required fields, the assembled notes).

    Every value already passed its own check in a converter; running the whole
    ``validate_event`` again per row cost a third of a large import. A test holds the two
    in step (every event the importer accepts passes ``validate_event``).
    """
    out = []
    for name in ("id", "date", "missile_class"):
        if ev[name] in (None, ""):
            out.append((name, ev[name], "is required"))
    if ev["date"] and not rules.date_in_bounds(ev["date"]):
        out.append(("date", ev["date"], rules.out_of_bounds(rules.DATE)))
    for lo, hi in (("distance_km", "distance_km_max"), ("apogee_km", "apogee_km_max")):
        a, b = ev[lo], ev[hi]
        if a is not None and b is not None and b < a:
            out.append((hi, b, f"is less than {lo} ({a})"))
    prec = ev["date_precision"]
    if prec in ("month", "year") and ev["time_kst"]:
        out.append(("time_kst", ev["time_kst"], "given for a date known only to the " + prec))
    if (ev["latitude"] is None) != (ev["longitude"] is None):
        out.append(("latitude", ev["latitude"], "and longitude must be given together"))
    for name in ("notes", "id"):
        v = ev[name]
        if v and len(v) > schema.MAX_TEXT_CHARS:
            out.append((name, v[:40] + "…", f"is longer than {schema.MAX_TEXT_CHARS:,} characters"))
    return out


def _derive_times(out: dict, clock_utc: str | None, problems: list, notes: list) -> None:
    try:
        _derive_times_inner(out, clock_utc, problems, notes)
    except _OutOfRange:
        field = "time_kst" if out["time_kst"] else "time_utc"
        problems.append((field, out[field] or clock_utc,
                         "cannot be converted between KST and UTC (the date is out of range)"))


def _derive_times_inner(out: dict, clock_utc: str | None, problems: list, notes: list) -> None:
    date, prec, tk, tu = out["date"], out["date_precision"], out["time_kst"], out["time_utc"]
    if (tk or tu or clock_utc) and prec != "day":
        field = "time_kst" if tk else "time_utc"
        problems.append((field, tk or tu or clock_utc, f"is given for a date known only to the {prec}"))
        return
    if tu:  # a full UTC instant
        kdate, ktime = _utc_to_kst(tu)
        if date is None:
            out["date"] = date = kdate
        if tk is None:
            if kdate != date:
                problems.append(("time_utc", tu, f"falls on {kdate} in Korea, not on the date {date}"))
                return
            out["time_kst"] = ktime
        elif (kdate, ktime) != (date, tk):
            problems.append(("time_utc", tu, f"does not match the Korean date and time {date} {tk}"))
        return
    if date is None:
        return
    if clock_utc and tk:
        expected = _kst_to_utc(date, tk)
        if expected[11:16] != clock_utc:
            problems.append(("time_utc", clock_utc, f"does not match the KST time {tk} "
                             f"({expected[11:16]} UTC)"))
            return
        out["time_utc"] = expected
        return
    if clock_utc:
        instant = f"{date}T{clock_utc}:00Z"
        kdate, ktime = _utc_to_kst(instant)
        out["time_utc"], out["time_kst"] = instant, ktime
        if kdate != date:
            notes.append(f"Date {date} was read as the UTC date (the time column is UTC); "
                         f"the Korean date is {kdate}.")
            out["date"] = kdate
        return
    if tk:
        out["time_utc"] = _kst_to_utc(date, tk)


__all__ = ["CellError", "make_converter", "finish_event", "cross_check", "text_value",
           "class_value", "TEXT_FIELDS", "CLASS_WORDS", "ColumnConverter", "MISSING", "UNMAPPED_TEXT",
           "kst_to_utc_many"]
