"""Plain values for the briefing pack's cells and text: dates, times, km, header/footer text.

Kept apart from :mod:`nkbrief.briefing.xlsx_stream` so code that only shows values (the pack
dialog) does not load openpyxl: it is imported only when a pack is built.
"""

from __future__ import annotations

import datetime as _dt

from ..common import plural  # noqa: F401 - the pack's sentences use it from here


def to_date(v: object) -> _dt.date | None:
    if not v or not isinstance(v, str):
        return None
    try:
        return _dt.date.fromisoformat(v[:10])
    except ValueError:
        return None


def to_time(v: object) -> _dt.time | None:
    if not v or not isinstance(v, str):
        return None
    try:
        h, m = v.split(":")[:2]
        return _dt.time(int(h), int(m))
    except ValueError:
        return None


def to_utc(v: object) -> _dt.datetime | None:
    """An ISO instant as a naive UTC datetime (Excel has no time zones)."""
    if not v or not isinstance(v, str):
        return None
    try:
        t = _dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return t


def shown_date(date: str | None, precision: str | None) -> str:
    """'2017-05-14', or '2017-05' / '2017' when known only to the month / year."""
    if not date:
        return ""
    return date[:7] if precision == "month" else date[:4] if precision == "year" else date


def long_date(d: _dt.date) -> str:
    return f"{d.day} {d.strftime('%B %Y')}"


def hf_escape(text: str) -> str:
    """Header/footer text: '&' starts a code there, so a literal one is '&&'."""
    return text.replace("&", "&&")


