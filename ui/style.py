"""Look and settings shared by the window: icons, stylesheet, fonts, QSettings, colours."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QIcon, QPalette

from nkbrief import privacy
from nkbrief.model import palette
from nkbrief.resources import resource_path


ORGANIZATION = "nkbrief"
APPLICATION = "nkbrief"

#: A selected row's background and every other row's, in tables.
SELECTION_BACKGROUND = "#CFE0F5"
ALTERNATE_ROW = "#F7F8FA"

#: The table header's look, a sheet on the header alone (style_view).
HEADER_STYLE = ("QHeaderView::section { background: #F1F3F5; border: none; border-right: 1px solid #E0E3E7; "
                "border-bottom: 1px solid #D5D9DE; padding: 3px 6px; font-weight: 600; }")

#: The status bar's look, a sheet on the status bar alone.
STATUS_BAR_STYLE = f"""
QStatusBar {{ border-top: 1px solid #D9DCE1; }}
QStatusBar QLabel {{ padding: 0 6px; color: {palette.MUTED_TEXT}; }}
QStatusBar QLabel#status_counts {{ color: {palette.TEXT}; font-weight: 600; }}
"""

#: A line edit whose text is not valid (mark_invalid), a sheet on the line edit alone.
INVALID_STYLE = f"QLineEdit {{ border: 1px solid {palette.CLASS_COLORS['IRBM']}; background: #FFF4F3; }}"

#: Text tones by label object name: the window's labels get them from their palettes
#: (set_tone), a dialog's from STYLESHEET.
TONES = {"problem": "#B3261E", "muted": palette.MUTED_TEXT}

#: The sheet of each dialog and of the docks built after the window first paints (each sets
#: it on itself: style_dialog). The main window has no sheet: one there puts every widget in
#: it (the table's cells, the plot, the detail pane) under Qt's style-sheet style, which cost
#: about 18 ms of start-up to the first paint (min of 10 runs a side, 2026-12-07). The
#: window's own styled parts get the same looks from palettes and from sheets on themselves:
#: style_view, STATUS_BAR_STYLE, mark_invalid (for line edits anywhere), set_tone.
STYLESHEET = f"""
QTableView {{ gridline-color: #ECEEF1; selection-background-color: {SELECTION_BACKGROUND};
             selection-color: {palette.TEXT}; alternate-background-color: {ALTERNATE_ROW}; }}
{HEADER_STYLE}
QTabWidget::pane {{ border-top: 1px solid #D9DCE1; }}
QTabBar::tab {{ padding: 4px 10px; }}
QLabel#problem {{ color: {TONES['problem']}; }}
QLabel#muted {{ color: {TONES['muted']}; }}
"""


def icon(name: str) -> QIcon:
    """An icon from resources/icons (``name`` without '.svg')."""
    return _icon(name)


@cache
def _icon(name: str) -> QIcon:
    p = resource_path(f"icons/{name}.svg")
    return QIcon(str(p)) if p.exists() else QIcon()


@cache
def app_icon() -> QIcon:
    """The application's icon (made once: the application, the window and dialogs share it)."""
    ic = QIcon()
    png = resource_path("icons/nkbrief.png")
    if png.exists():
        ic.addFile(str(png))
    svg = resource_path("icons/app.svg")
    if svg.exists():
        ic.addFile(str(svg))
    return ic


#: Settings files already made private in this process, and what that tightened.
_secured: dict[str, list[str]] = {}


def settings() -> QSettings:
    """The app's settings. Tests redirect them with QSettings.setPath (see tests/ui/conftest.py).

    The first time a settings file is used, its folder is made 0700 and the file 0600
    (created empty if absent, since Qt keeps an existing file's mode when it rewrites it):
    recent folders and file names are the analyst's alone.
    """
    s = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)
    name = s.fileName()
    if name not in _secured:
        try:
            _secured[name] = privacy.secure_settings_file(name)
        except OSError:  # an unwritable config folder: Qt reports its own status; nothing to tighten
            _secured[name] = []
    return s


def settings_privacy_notes() -> list[str]:
    """What securing the settings tightened, told once: the list is emptied by reading it."""
    notes = [n for ns in _secured.values() for n in ns]
    for ns in _secured.values():
        ns.clear()
    return notes


def qcolor(hex_color: str, alpha: int | None = None) -> QColor:
    c = QColor(hex_color)
    if alpha is not None:
        c.setAlpha(alpha)
    return c


@cache
def class_qcolor(missile_class: str) -> QColor:
    return QColor(palette.class_color(missile_class))


def style_dialog(widget) -> None:
    """Give a dialog (or a dock built after the first paint) the app's sheet (STYLESHEET):
    the main window has none, so nothing else passes it on."""
    widget.setStyleSheet(STYLESHEET)


def style_view(view) -> None:
    """A table in the main window as STYLESHEET draws one in a dialog: selection and
    alternate-row colours from its palette, the header from a sheet on the header alone."""
    pal = view.palette()
    pal.setColor(QPalette.ColorRole.Highlight, QColor(SELECTION_BACKGROUND))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor(palette.TEXT))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor(ALTERNATE_ROW))
    view.setPalette(pal)
    view.horizontalHeader().setStyleSheet(HEADER_STYLE)


def set_tone(label, tone: str) -> None:
    """Name ``label`` by its tone ("muted", "problem") and colour its text so (TONES)."""
    label.setObjectName(tone)
    pal = label.palette()
    pal.setColor(QPalette.ColorRole.WindowText, QColor(TONES[tone]))
    label.setPalette(pal)


def mark_invalid(edit, invalid: bool) -> None:
    """Mark a line edit's text as not valid (its ``invalid`` property and INVALID_STYLE),
    or as valid again."""
    if bool(edit.property("invalid")) != invalid:
        edit.setProperty("invalid", invalid)
        edit.setStyleSheet(INVALID_STYLE if invalid else "")
