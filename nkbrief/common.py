"""Small helpers several wings share: pausing the garbage collector, formula-safe escaping, hashing.

Neutral ground: this module imports nothing from the project, so the importer, the exporter,
the store and the briefing pack can all use it without reaching into each other.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import re
from pathlib import Path


class UserError(Exception):
    """An error whose message is for the user: one line, no traceback.

    The import, export, pack and store errors derive from it, so the window's worker can
    tell an expected refusal ("row 14: Date '31-Feb-26' is not a date") from a bug.
    """

#: Leading characters after which a spreadsheet may read text as a formula.
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def csv_escape(text: str) -> str:
    """OWASP apostrophe for text that would start a formula (see :mod:`nkbrief.exporting.export`)."""
    if text.lstrip("'").startswith(CSV_TRIGGERS):
        return "'" + text
    return text


def csv_unescape(text: str) -> str:
    """Undo :func:`csv_escape`: one apostrophe off apostrophes-then-trigger text only."""
    if text.startswith("'") and text.lstrip("'").startswith(CSV_TRIGGERS):
        return text[1:]
    return text


_X_PATTERN_START = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]")
_X_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def xlsx_escape(text: str) -> str:
    """Excel's ``_xHHHH_`` escape for characters an xlsx string cannot carry as they are."""
    if "_x" in text:
        text = _X_PATTERN_START.sub("_x005F_", text)
    if _XML_UNSAFE.search(text):
        text = _XML_UNSAFE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text


def xlsx_unescape(text: str) -> str:
    """Decode ``_xHHHH_`` (as Excel writes CR, and as :func:`xlsx_escape` writes)."""
    if "_x" not in text:
        return text
    return _X_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


#: What ``html.escape(text, quote=True)`` replaces, in its order (``&`` first).
_HTML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"))


def html_escape(text: str) -> str:
    """``html.escape(text)``, without importing :mod:`html`: that module loads its table of
    2,231 named entities (for unescaping, never used here), about 1.6 ms of the window's
    start-up. ``tests/core/test_common.py`` checks the two agree."""
    for char, entity in _HTML_ESCAPES:
        if char in text:
            text = text.replace(char, entity)
    return text


# ---------------------------------------------------------------------------- hashing
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------- memory
@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while building many small dicts and lists.

    A 100k-row import allocates millions of containers; with the collector running, its
    generation-2 passes over them took more time than the parsing (6.4 s against 2.5 s).
    Nothing built here forms reference cycles. On the way out, everything allocated in the
    meantime is moved straight to the oldest generation (``gc.freeze()`` then
    ``gc.unfreeze()``), so re-enabling the collector does not start with one pass over all
    of it (0.1-0.3 s per 100k rows); a full collection, when it comes, still sees it all.
    (This would also unfreeze objects someone else froze; nothing in nkbrief or its UI does.)
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def shown(text: object) -> str:
    """Text safe for a one-line message: control characters (newline, ANSI escapes...) and
    lone surrogates written as escapes (``\\n``, ``\\x1b``, ``\\ud800``)."""
    s = str(text)
    if not _UNSAFE.search(s):
        return s
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), s)


#: Irregular plurals of the nouns nkbrief's sentences count (the pack's, the command line's).
_PLURALS = {"has": "have", "was": "were", "is": "are", "entry": "entries", "day": "days",
            "statement": "statements", "does": "do"}


def plural(n: int, noun: str, plural_form: str | None = None, *, number: bool = True) -> str:
    """'1 event', '0 events', '2 launch events', '1,234 entries': the noun agrees with ``n``
    (the last word is inflected; ``plural_form`` gives the whole plural when it is irregular).
    ``number=False`` gives the noun alone."""
    if n == 1:
        word = noun
    elif plural_form:
        word = plural_form
    else:
        head, _, last = noun.rpartition(" ")
        last = _PLURALS.get(last) or (last[:-1] + "ies" if last.endswith("y") and last[-2:-1] not in "aeiou"
                                      else last + ("es" if last.endswith(("s", "x", "ch", "sh")) else "s"))
        word = f"{head} {last}" if head else last
    return f"{n:,} {word}" if number else word
