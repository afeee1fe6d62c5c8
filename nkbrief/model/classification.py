"""Classification markings: presets, their customary colours, and free-text markings.

The marking is free text ("SECRET//REL TO USA, FVEY", "UNCLASSIFIED//FOR OFFICIAL USE
ONLY"). Its colour is that of the highest marking it contains, so a caveat never changes
the banner colour, and text that names no known marking gets a neutral dark grey.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Offered in the dialog's drop-down, lowest to highest.
PRESETS: tuple[str, ...] = (
    "UNCLASSIFIED",
    "UNCLASSIFIED//FOR OFFICIAL USE ONLY",
    "CUI",
    "CONFIDENTIAL",
    "SECRET",
    "TOP SECRET",
)

#: Customary banner colours of the base markings.
COLOURS: dict[str, str] = {
    "UNCLASSIFIED": "#007A33",
    "CUI": "#502B85",
    "CONFIDENTIAL": "#0033A0",
    "SECRET": "#C8102E",
    "TOP SECRET": "#FF8C00",
}

#: For text that names no known marking (e.g. another country's scheme).
OTHER_COLOUR = "#3C3C3C"

#: Longest marking accepted; a header or footer holds at most 255 characters in all.
MAX_MARKING_CHARS = 120

# Highest first: the first pattern that matches decides the level.
_LEVELS: tuple[tuple[str, re.Pattern], ...] = (
    ("TOP SECRET", re.compile(r"\bTOP[\s_-]*SECRET\b|^TS(//|\s*$)")),
    ("SECRET", re.compile(r"\bSECRET\b|^S(//|\s*$)")),
    ("CONFIDENTIAL", re.compile(r"\bCONFIDENTIAL\b|^C(//|\s*$)")),
    ("CUI", re.compile(r"\bCUI\b|\bCONTROLLED\s+UNCLASSIFIED\b")),
    ("UNCLASSIFIED", re.compile(r"\bUNCLASSIFIED\b|^U(//|\s*$)")),
)
_RANK = {name: len(_LEVELS) - i for i, (name, _) in enumerate(_LEVELS)}


@dataclass(frozen=True)
class Marking:
    """A marking ready to print: its text, base level (or None), and colours."""

    text: str
    level: str | None
    colour: str  # "#RRGGBB" banner colour
    text_colour: str  # black or white, whichever reads better on ``colour``

    @property
    def rank(self) -> int:
        """0 for unknown text, then 1 (UNCLASSIFIED) up to 5 (TOP SECRET)."""
        return _RANK.get(self.level or "", 0)


def normalise(text: str | None) -> str:
    """One line, single spaces, no control characters; the user's spelling otherwise kept."""
    s = unicodedata.normalize("NFC", text or "")
    s = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in s)
    return re.sub(r" {2,}", " ", s).strip()


def highest_level(text: str | None) -> str | None:
    """The highest base marking named in ``text`` ('SECRET//NOFORN' -> 'SECRET'), or None."""
    s = normalise(text).upper()
    for name, pattern in _LEVELS:
        if pattern.search(s):
            return name
    return None


def marking_colour(text: str | None) -> str:
    """The banner colour for a free-text marking."""
    level = highest_level(text)
    return COLOURS[level] if level else OTHER_COLOUR


def readable_text_colour(background: str) -> str:
    """'#000000' or '#FFFFFF', whichever contrasts more with ``background`` (WCAG luminance)."""
    h = background.lstrip("#")
    chans = []
    for i in (0, 2, 4):
        c = int(h[i:i + 2], 16) / 255
        chans.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    lum = 0.2126 * chans[0] + 0.7152 * chans[1] + 0.0722 * chans[2]
    return "#000000" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "#FFFFFF"


def check(text: str | None) -> str:
    """The normalised marking, or ValueError with a message for the user."""
    s = normalise(text)
    if not s:
        raise ValueError("the classification marking is empty (choose a preset or type one)")
    if len(s) > MAX_MARKING_CHARS:
        raise ValueError(f"the classification marking is longer than {MAX_MARKING_CHARS} characters")
    return s


def marking(text: str | None) -> Marking:
    """Check and describe a marking; raises ValueError for empty or over-long text."""
    s = check(text)
    level = highest_level(s)
    colour = COLOURS[level] if level else OTHER_COLOUR
    return Marking(s, level, colour, readable_text_colour(colour))
