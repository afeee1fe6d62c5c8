"""Formula-safe values for spreadsheets we write (xlsx and csv).

Text that came from data must never become a live formula, a DDE call or an error value
in the reader's spreadsheet. The API is four functions:

- :func:`safe_cell_value` ``(v) -> (value, quote_prefix)``: what to store and whether the
  cell needs Excel's quotePrefix (the hidden leading apostrophe). The exact text is kept;
  only characters XML cannot carry are replaced (by U+FFFD) and text is cut at Excel's
  32,767-character cell limit.
- :func:`set_safe_value` ``(cell, v) -> cell``: applies that to an openpyxl cell (normal or
  write-only): text always becomes a string cell (never a formula or an error such as
  ``#N/A``), with quotePrefix when it looks like a formula.
- :func:`safe_hyperlink` ``(url) -> str | None``: only http and https links survive.
- :func:`csv_safe` ``(v) -> str``: the OWASP rule for CSV, a leading apostrophe before
  text that starts with ``= + - @``, tab or carriage return (numbers are left alone).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal
from urllib.parse import urlsplit

#: Leading characters that make Excel, LibreOffice or Sheets read text as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Full-width forms some spreadsheet apps also accept as formula starters.
_WIDE_TRIGGERS = ("＝", "＋", "－", "＠")
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: Excel keeps at most this many characters in one cell.
MAX_CELL_CHARS = 32_767
#: Longest hyperlink target Excel accepts.
MAX_URL_CHARS = 2_079

# XML 1.0 cannot hold these (openpyxl refuses them), nor can UTF-8 hold lone surrogates.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def needs_quote_prefix(text: str) -> bool:
    """True when ``text`` would start a formula (also after leading spaces)."""
    if not text:
        return False
    if text.startswith(FORMULA_TRIGGERS) or text.startswith(_WIDE_TRIGGERS):
        return True
    stripped = text.lstrip(" \u00a0\u3000")
    return stripped != text and stripped.startswith(FORMULA_TRIGGERS + _WIDE_TRIGGERS)


def clean_text(text: str) -> str:
    """Text an xlsx cell can hold: XML-illegal characters -> U+FFFD, cut at the cell limit."""
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("\ufffd", text)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def safe_cell_value(v: object) -> tuple[object, bool]:
    """``(value to store, quote_prefix)`` for any value headed for an xlsx cell.

    Text keeps its exact content (see :func:`clean_text`); numbers that are NaN or infinite
    become empty; time-zone-aware datetimes become naive UTC (Excel has no zones); lists are
    joined one item per line; anything else is stored as its text.
    """
    if v is None:
        return None, False
    if isinstance(v, bool):
        return v, False
    if isinstance(v, (int, Decimal)):
        return v, False
    if isinstance(v, float):
        return (None, False) if not math.isfinite(v) else (v, False)
    if isinstance(v, _dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return v, False
    if isinstance(v, (_dt.date, _dt.time)):
        return v, False
    if isinstance(v, (list, tuple)):
        v = "\n".join("" if x is None else str(x) for x in v)
    elif not isinstance(v, str):
        if hasattr(v, "item"):  # numpy scalars
            return safe_cell_value(v.item())
        v = str(v)
    text = clean_text(v)
    return text, needs_quote_prefix(text)


def set_safe_value(cell, v: object):
    """Put ``v`` into an openpyxl cell safely and return the cell.

    Text is always a string cell (openpyxl would otherwise turn '=...' into a formula and
    '#N/A' into an error value); formula-like text also gets quotePrefix.
    """
    value, quote = safe_cell_value(v)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if quote:
            cell.quotePrefix = True
    return cell


def safe_hyperlink(url: object) -> str | None:
    """``url`` stripped if it is a plain http(s) link with a host, else None.

    Rejects other schemes (file:, javascript:, mailto:, UNC paths...), embedded whitespace
    or control characters, and over-long targets.
    """
    if not isinstance(url, str):
        return None
    u = url.strip()
    if not u or len(u) > MAX_URL_CHARS or re.search(r"[\s\x00-\x1f\x7f\"<>\\^`{|}]", u):
        return None
    try:
        parts = urlsplit(u)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return u


def csv_safe(v: object) -> str:
    """A CSV field's text: OWASP apostrophe before text starting with = + - @ tab or CR."""
    if v is None:
        return ""
    if isinstance(v, float) and not math.isfinite(v):
        return ""
    if not isinstance(v, str):  # numbers such as -5 stay numbers
        return str(v)
    s = v
    if s.startswith(CSV_TRIGGERS) or s.startswith(_WIDE_TRIGGERS):
        return "'" + s
    return s
