"""Safe file names for files we write: no illegal characters, no reserved names, sane length.

The same rules are applied on every platform, so a pack named on Linux can be copied to a
Windows share unchanged.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from pathlib import Path

#: Names Windows reserves for devices, with or without an extension ("CON.xlsx" too).
RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
    + [f"COM{c}" for c in "¹²³"] + [f"LPT{c}" for c in "¹²³"]
)

#: Characters no Windows file name may hold (plus the ASCII control characters).
ILLEGAL_CHARS = '<>:"/\\|?*'

#: Longest name we produce, in characters (and never over 255 bytes of UTF-8).
MAX_NAME_CHARS = 120

_ILLEGAL_RE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


def _truncate_utf8(s: str, max_bytes: int) -> str:
    b = s.encode("utf-8")
    if len(b) <= max_bytes:
        return s
    return b[:max_bytes].decode("utf-8", errors="ignore")


def sanitise_filename(name: str | None, *, suffix: str = ".xlsx",
                      default: str = "briefing-pack") -> str:
    """A safe file name (no folder part) that ends with ``suffix``.

    Illegal characters become "_", runs of spaces shrink to one, leading/trailing dots and
    spaces go, reserved device names get a leading "_", and the stem is shortened so the
    whole name fits :data:`MAX_NAME_CHARS`. An empty result falls back to ``default``.
    """
    s = unicodedata.normalize("NFC", name or "")
    s = _ILLEGAL_RE.sub("_", s)
    s = re.sub(r"\s+", " ", s).strip(" .")
    if suffix and s.lower().endswith(suffix.lower()):
        s = s[: -len(suffix)].rstrip(" .")
    if not s.strip("_ "):
        s = default
    if s.split(".")[0].strip().upper() in RESERVED_NAMES:
        s = "_" + s
    limit = MAX_NAME_CHARS - len(suffix)
    s = _truncate_utf8(s[:limit], 255 - len(suffix.encode("utf-8"))).rstrip(" .")
    return s + suffix


def sanitise_path(path: str | Path, *, suffix: str = ".xlsx") -> Path:
    """``path`` with its last component made safe by :func:`sanitise_filename`."""
    p = Path(path).expanduser()
    return p.with_name(sanitise_filename(p.name, suffix=suffix))


def suggested_name(title: str | None, date: _dt.date | str | None = None, *,
                   suffix: str = ".xlsx") -> str:
    """'2026-01-27 North Korean missile launches.xlsx' from a title and a date."""
    d = date.isoformat() if isinstance(date, _dt.date) else (date or _dt.date.today().isoformat())
    return sanitise_filename(f"{d} {title or 'briefing pack'}", suffix=suffix)
