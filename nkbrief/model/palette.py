"""One palette for the whole product: table, timeline, map and the briefing pack. Qt-free.

Colours are hex strings (``"#RRGGBB"``) so that Qt (``QColor(hex)``) and openpyxl
(``hex[1:]``) can both use them. The class colours are muted enough for a screen read for
hours, yet distinct from each other and from the calendar colours.
"""

from __future__ import annotations

from .schema import CALENDAR_CATEGORIES, MISSILE_CLASSES

#: One accent colour per missile class, in schema order.
CLASS_COLORS: dict[str, str] = {
    "SRBM": "#3B78B5",     # blue: the bulk of launches
    "CRBM": "#7DB0DE",     # light blue: the short-range cousin
    "MRBM": "#E0892B",     # orange
    "IRBM": "#C8423C",     # red
    "ICBM": "#7E3C8E",     # purple
    "SLBM": "#23978A",     # teal
    "SLV": "#5E8C2E",      # green
    "HGV": "#C9A227",      # ochre
    "cruise": "#8A6A4F",   # brown
    "MLRS": "#8C98A8",     # slate
    "unknown": "#6B6B6B",  # grey
}

#: Political-calendar category colours (lines and bands behind the points).
CATEGORY_COLORS: dict[str, str] = {
    "party_congress": "#B22222",
    "plenum": "#D2691E",
    "spa_session": "#A0522D",
    "summit": "#2E8B57",
    "exercise": "#4682B4",
    "inauguration": "#6A5ACD",
    "anniversary": "#9A8C3C",
    "un_resolution": "#1E6FA8",
    "nuclear_test": "#111111",
    "other": "#808080",
}

ACCENT = "#2F6DB5"        # selection and focus
SELECTION_RING = "#111111"
TODAY = "#C0392B"
TEXT = "#202124"
MUTED_TEXT = "#5F6368"
GRID = "#E3E5E8"
BACKGROUND = "#FFFFFF"

assert set(CLASS_COLORS) == set(MISSILE_CLASSES)
assert set(CATEGORY_COLORS) == set(CALENDAR_CATEGORIES)


def class_color(missile_class: str | None) -> str:
    """The hex colour of a class; unknown or unrecognised classes are grey."""
    return CLASS_COLORS.get(missile_class or "unknown", CLASS_COLORS["unknown"])


def category_color(category: str | None) -> str:
    return CATEGORY_COLORS.get(category or "other", CATEGORY_COLORS["other"])


def rgb(hex_color: str) -> tuple[int, int, int]:
    """'#3B78B5' -> (59, 120, 181)."""
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
