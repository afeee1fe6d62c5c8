"""Turn messy cell text into typed values, or say exactly why not.

Every parser returns a value or raises ``ValueError`` whose message completes the
sentence "row 14: Date '31-Feb-26' ..." — e.g. "is not a date". Importers prefix the
row, column and value.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

NULL_TOKENS = {"", "unknown", "n/a", "na", "-", "–", "—", "none", "null", "nan", "?", "unk",
               "미상", "알수없음", "불명", "없음"}

MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
MILES_TO_KM = 1.609344


def is_null(v: object) -> bool:
    """True for blank cells and the tokens files use for 'not known'."""
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip().lower() in NULL_TOKENS


def clean_text(v: object) -> str | None:
    """Strip whitespace (incl. NBSP); null tokens become None."""
    if is_null(v):
        return None
    s = str(v).replace("\u00a0", " ").strip()
    return s or None


_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_UNIT = r"\s*(km|kms|kilomet(?:er|re)s?|킬로미터|킬로|㎞|lm|mi|miles?|마일)?"
_RANGE_PATTERNS = [
    re.compile(r"^(?:between|from)\s+" + _NUM + _UNIT + r"\s+(?:and|to)\s+" + _NUM + _UNIT + r"$", re.I),
    re.compile(r"^" + _NUM + _UNIT + r"\s*(?:-|–|—|~|to)\s*" + _NUM + _UNIT + r"$", re.I),
]
_SINGLE = re.compile(
    r"^(?:about|approx(?:\.|imately)?|around|some|up to|over|more than|at least|약|~|≈|>|<)?\s*"
    + _NUM + _UNIT + r"\s*(?:\+|이상|가량|정도)?$", re.I)


def _num(s: str) -> float:
    return float(s.replace(",", ""))


def _to_km(value: float, unit: str | None) -> float:
    if unit and unit.lower().startswith(("mi", "마일")):
        return round(value * MILES_TO_KM, 1)
    return value


def parse_km(v: object) -> tuple[float | None, float | None]:
    """Parse a distance or apogee cell into (km, km_max).

    "1,380 km" -> (1380.0, None); "between 25 and 90 km" -> (25.0, 90.0);
    "~350km" -> (350.0, None); "220 mi" -> (354.1, None); "330 lm" (typo) -> (330.0, None);
    "Unknown"/"N/A"/blank -> (None, None). Anything else raises ValueError.
    """
    if is_null(v):
        return None, None
    if isinstance(v, bool):
        raise ValueError("is not a distance")
    if isinstance(v, (int, float)):
        if v < 0:
            raise ValueError("must not be negative")
        return _float(v), None
    s = str(v).replace("\u00a0", " ").strip()
    for pat in _RANGE_PATTERNS:
        m = pat.match(s)
        if m:
            a_unit = m.group(2) or m.group(4)
            b_unit = m.group(4) or m.group(2)
            lo, hi = _to_km(_num(m.group(1)), a_unit), _to_km(_num(m.group(3)), b_unit)
            if hi < lo:
                raise ValueError("is a range whose upper end is below its lower end")
            return lo, hi
    m = _SINGLE.match(s)
    if m:
        return _to_km(_num(m.group(1)), m.group(2)), None
    if s.startswith("-") and _SINGLE.match(s[1:].strip()):
        raise ValueError("must not be negative")
    raise ValueError("is not a distance")


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DMY_NAME = re.compile(r"^(\d{1,2})[- ]([A-Za-z]{3,9})[- ,]+(\d{2}|\d{4})$")
_MY_NAME = re.compile(r"^([A-Za-z]{3,9})[- ,]+(\d{2}|\d{4})$")
_MDY_NAME = re.compile(r"^([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})$")
_DOTTED = re.compile(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})\.?$")
_DOTTED_DMY = re.compile(r"^(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})\.?$")  # 31.12.2023: day first, always
_KOREAN = re.compile(r"^(\d{4})\s*년\s*(\d{1,2})\s*월(?:\s*(\d{1,2})\s*일)?$")
_YEAR = re.compile(r"^(\d{4})$")


def _century(yy: int, pivot: int) -> int:
    """Two-digit years: 84 -> 1984, 23 -> 2023 (years above ``pivot`` are 19xx)."""
    return 1900 + yy if yy > pivot else 2000 + yy


def _month(name: str) -> int:
    m = MONTHS.get(name[:3].lower())
    if m is None:
        raise ValueError("is not a date")
    return m


def _mkdate(y: int, m: int, d: int) -> str:
    try:
        return _dt.date(y, m, d).isoformat()
    except ValueError:
        raise ValueError("is not a date") from None


def excel_serial_to_date(n: float) -> _dt.datetime:
    """Excel 1900-system serial (with its phantom 1900-02-29) to a datetime."""
    return _dt.datetime(1899, 12, 30) + _dt.timedelta(days=float(n))


def slash_order(v: object) -> str | None:
    """What a slash date says about its order: 'dmy' ('13/04/2026' can only be day-first),
    'mdy' ('04/13/2026'), 'ambiguous' ('03/04/2026'), or None (not a slash date, or one
    whose day and month are the same number)."""
    if not isinstance(v, str):
        return None
    m = _US.match(v.strip())
    if m is None:
        return None
    a, b = int(m[1]), int(m[2])
    if a == b or (a > 12 and b > 12):
        return None
    if a > 12:
        return "dmy"
    if b > 12:
        return "mdy"
    return "ambiguous"


_TIME_PART = re.compile(r"^[T ]\s*(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,]\d+)?)?")


def _check_time_part(tail: str) -> None:
    """A date cell's time of day ('T15:50', ' 25:61:00Z') must be a real time, not be
    dropped unread: raises ValueError for '2026-01-27T25:61'."""
    m = _TIME_PART.match(tail)
    if m and (int(m[1]) > 23 or int(m[2]) > 59 or (m[3] is not None and int(m[3]) > 59)):
        raise ValueError(f"holds an impossible time of day ({tail.strip().lstrip('T').strip()})")


def parse_date(v: object, pivot: int = 50, order: str | None = None) -> tuple[str, str]:
    """Parse a date cell into (ISO date, precision).

    Month-only dates keep precision 'month' and use the 1st as the date. Accepts ISO,
    d-Mmm-yy, Mmm-yy, M/D/YYYY (D/M/YYYY with ``order='dmy'``), dotted day-first
    D.M.YYYY ('31.12.2023', '14.3.2026'), YYYY.M.D, '2026년 1월 27일', 'Jan 27, 2026', a bare
    year, Excel date cells and Excel serial numbers. Raises ValueError("is not a date").
    """
    if isinstance(v, _dt.datetime):
        return v.date().isoformat(), "day"
    if isinstance(v, _dt.date):
        return v.isoformat(), "day"
    if isinstance(v, bool) or is_null(v):
        raise ValueError("is not a date")
    if isinstance(v, (int, float)):
        if 1 <= v < 2958466 and float(v).is_integer():
            return excel_serial_to_date(v).date().isoformat(), "day"
        raise ValueError("is not a date")
    s = str(v).replace("\u00a0", " ").strip()
    if m := _ISO.match(s):
        _check_time_part(s[m.end(3):])
        return _mkdate(int(m[1]), int(m[2]), int(m[3])), "day"
    if m := _ISO_MONTH.match(s):
        return _mkdate(int(m[1]), int(m[2]), 1)[:8] + "01", "month"
    if m := _DMY_NAME.match(s):
        y = int(m[3])
        y = _century(y, pivot) if len(m[3]) == 2 else y
        return _mkdate(y, _month(m[2]), int(m[1])), "day"
    if m := _MY_NAME.match(s):
        y = int(m[2])
        y = _century(y, pivot) if len(m[2]) == 2 else y
        return _mkdate(y, _month(m[1]), 1), "month"
    if m := _MDY_NAME.match(s):
        return _mkdate(int(m[3]), _month(m[1]), int(m[2])), "day"
    if m := _US.match(s):
        y = int(m[3])
        y = _century(y, pivot) if len(m[3]) == 2 else y
        month, day = (int(m[2]), int(m[1])) if order == "dmy" else (int(m[1]), int(m[2]))
        try:
            return _dt.date(y, month, day).isoformat(), "day"
        except ValueError:
            raise ValueError("is not a date" + (" (read day first)" if order == "dmy" else
                                                " (read month first)" if order == "mdy" else "")) from None
    if m := _DOTTED.match(s):
        return _mkdate(int(m[1]), int(m[2]), int(m[3])), "day"
    if m := _DOTTED_DMY.match(s):
        y = int(m[3])
        y = _century(y, pivot) if len(m[3]) == 2 else y
        return _mkdate(y, int(m[2]), int(m[1])), "day"
    if m := _KOREAN.match(s):
        if m[3] is None:
            return _mkdate(int(m[1]), int(m[2]), 1), "month"
        return _mkdate(int(m[1]), int(m[2]), int(m[3])), "day"
    if m := _YEAR.match(s):
        y = int(m[1])
        if 1900 <= y <= 2100:
            return f"{y:04d}-01-01", "year"
    if re.fullmatch(r"\d+(\.0+)?", s):
        return parse_date(float(s), pivot)
    raise ValueError("is not a date")


_T12 = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp])\.?\s*[Mm]\.?$")
_T24 = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*\((UTC|KST|JST)\))?$", re.I)
_TKOR = re.compile(r"^(오전|오후)?\s*(\d{1,2})\s*시(?:\s*(\d{1,2})\s*분)?$")


def parse_time(v: object) -> str | None:
    """Parse a time cell into 'HH:MM' (24-hour). Null tokens give None.

    '10:22:00 PM' -> '22:22'; '07:50' -> '07:50'; '15:54 (UTC)' -> '15:54';
    '오후 3시 50분' -> '15:50'; Excel time cells and day fractions work too.
    """
    if is_null(v):
        return None
    if isinstance(v, _dt.datetime):
        return v.strftime("%H:%M")
    if isinstance(v, _dt.time):
        return v.strftime("%H:%M")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if 0 <= v < 1:
            minutes = round(v * 24 * 60)
            return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"
        raise ValueError("is not a time")
    s = str(v).replace("\u00a0", " ").strip().lstrip("~").strip()
    if m := _T12.match(s):
        h, mi = int(m[1]), int(m[2])
        if not 1 <= h <= 12 or mi > 59:
            raise ValueError("is not a time")
        h = h % 12 + (12 if m[4].lower() == "p" else 0)
        return f"{h:02d}:{mi:02d}"
    if m := _T24.match(s):
        h, mi = int(m[1]), int(m[2])
        if h > 23 or mi > 59:
            raise ValueError("is not a time")
        return f"{h:02d}:{mi:02d}"
    if m := _TKOR.match(s):
        h, mi = int(m[2]), int(m[3] or 0)
        if m[1] == "오후" and h < 12:
            h += 12
        if h > 23 or mi > 59:
            raise ValueError("is not a time")
        return f"{h:02d}:{mi:02d}"
    raise ValueError("is not a time")


#: Longer runs of digits are refused before Python converts them (no count comes close).
MAX_INT_DIGITS = 18


def _int(v: int) -> int:
    """An int cell (Excel, JSON) of at most :data:`MAX_INT_DIGITS` digits."""
    if abs(v) >= 10 ** MAX_INT_DIGITS:
        raise TooLarge(len(str(abs(v))) if abs(v).bit_length() < 14_000 else abs(v).bit_length() * 3 // 10)
    return v


def _float(v: int | float) -> float:
    """float(v), refusing an int too large to be a float's exact value."""
    return float(_int(v)) if isinstance(v, int) else float(v)


class TooLarge(ValueError):
    """A whole number of more than :data:`MAX_INT_DIGITS` digits (``digits``)."""

    def __init__(self, digits: int):
        super().__init__(f"is too large a number ({digits:,} digits)")
        self.digits = digits


def parse_int(v: object) -> int | None:
    """Counts: '2', 2.0, '2 missiles', '2발' -> 2; 'multiple'/'several' -> None."""
    if is_null(v) or (isinstance(v, str) and v.strip().lower() in {"multiple", "several", "다수"}):
        return None
    if isinstance(v, bool):
        raise ValueError("is not a whole number")
    if isinstance(v, int):  # (a float of a huge int would overflow)
        v = _int(v)
        if v < 0:
            raise ValueError("must not be negative")
        return v
    if isinstance(v, float):
        if v.is_integer():
            if v < 0:
                raise ValueError("must not be negative")
            return int(v)
        raise ValueError("is not a whole number")
    s = str(v).strip()
    m = re.fullmatch(r"(?:about|approx\.?|around|약|~)?\s*(-?\d+)\s*(?:missiles?|rounds?|발|기)?", s, re.I)
    if not m:
        raise ValueError("is not a whole number")
    if len(m[1].lstrip("-+0")) > MAX_INT_DIGITS:
        raise TooLarge(len(m[1].lstrip("-+0")))
    n = int(m[1])
    if n < 0:
        raise ValueError("must not be negative")
    return n


def parse_float(v: object) -> float | None:
    """Plain decimal numbers such as coordinates; null tokens give None."""
    if is_null(v):
        return None
    if isinstance(v, bool):
        raise ValueError("is not a number")
    if isinstance(v, (int, float)):
        return _float(v)
    s = str(v).replace("\u00a0", " ").strip().rstrip("°").strip()
    try:
        f = float(s.replace(",", ""))
    except ValueError:
        raise ValueError("is not a number") from None
    if math.isnan(f) or math.isinf(f):
        raise ValueError("is not a number")
    return f


_TRUE = {"yes", "y", "true", "1", "attended", "예", "참석"}
_FALSE = {"no", "n", "false", "0", "아니오", "불참"}


def parse_bool(v: object) -> bool | None:
    if is_null(v):
        return None
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError("is not yes/no")


_URL_SPLIT = re.compile(r"\s+(?=https?://)|(?<=\S)(?=https?://)")


def split_sources(v: object) -> list[str]:
    """Split a sources cell on ';', newlines and URLs glued together with no separator."""
    if is_null(v):
        return []
    if isinstance(v, list):
        return [s for s in (clean_text(x) for x in v) if s]
    parts = re.split(r";|\r?\n|\s\|\s", str(v))
    out: list[str] = []
    for p in parts:
        for q in _URL_SPLIT.split(p):
            q = q.replace("\u00a0", " ").strip()
            if q:
                out.append(q)
    return out
