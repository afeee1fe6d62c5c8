"""Look and settings shared by the window: icons, stylesheet, fonts, QSettings, colours."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QIcon

from nkbrief import privacy
from nkbrief.model import palette
from nkbrief.resources import resource_path


ORGANIZATION = "nkbrief"
APPLICATION = "nkbrief"

STYLESHEET = f"""
QMainWindow::separator {{ background: #D9DCE1; width: 3px; height: 3px; }}
QToolBar {{ border: none; spacing: 4px; padding: 2px 4px; }}
QToolBar#filter_bar {{ border-top: 1px solid #E3E5E8; }}
QStatusBar {{ border-top: 1px solid #D9DCE1; }}
QStatusBar QLabel {{ padding: 0 6px; color: {palette.MUTED_TEXT}; }}
QStatusBar QLabel#status_counts {{ color: {palette.TEXT}; font-weight: 600; }}
QTableView {{ gridline-color: #ECEEF1; selection-background-color: #CFE0F5;
             selection-color: {palette.TEXT}; alternate-background-color: #F7F8FA; }}
QHeaderView::section {{ background: #F1F3F5; border: none; border-right: 1px solid #E0E3E7;
                        border-bottom: 1px solid #D5D9DE; padding: 3px 6px; font-weight: 600; }}
QDockWidget::title {{ background: #F1F3F5; padding: 4px 6px; }}
QTabWidget::pane {{ border-top: 1px solid #D9DCE1; }}
QTabBar::tab {{ padding: 4px 10px; }}
QLineEdit[invalid="true"] {{ border: 1px solid {palette.CLASS_COLORS['IRBM']}; background: #FFF4F3; }}
QLabel#problem {{ color: #B3261E; }}
QLabel#muted {{ color: {palette.MUTED_TEXT}; }}
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
