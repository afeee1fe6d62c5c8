"""The event table's right-click menu: registered actions plus the table's own entries."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu


def _texts(menu: QMenu) -> list[str]:
    return [a.text() if not a.isSeparator() else "-" for a in menu.actions()]


def test_registered_actions_come_first_then_copy_and_columns(qtbot, small_window, small_events):
    table = small_window.table
    before = table.context_actions()  # what the window's feature modules registered
    seen = []
    first, second = QAction("First thing", table), QAction("Second thing", table)
    first.triggered.connect(lambda: seen.append("first"))
    table.add_context_action(first)
    table.add_context_action(second)
    table.add_context_action(first)  # twice: once in the menu
    assert table.context_actions() == before + [first, second]

    small_window.selection.set([], source=None)
    menu = table.context_menu()
    n = len(before)
    assert _texts(menu)[n:n + 6] == ["First thing", "Second thing", "-", "Copy cell", "Copy rows", "Copy ids"]
    copy = menu.actions()[n + 4]
    assert not copy.isEnabled()  # nothing selected
    assert copy.shortcut() == QKeySequence(QKeySequence.StandardKey.Copy)  # shown as a hint
    columns = menu.actions()[-1].menu()
    assert columns is not None and columns.title() == "Columns"
    menu.actions()[n].trigger()
    assert seen == ["first"]
    menu.deleteLater()

    # with rows selected, Copy rows copies them as TSV
    ids = [small_events[0]["id"], small_events[1]["id"]]
    small_window.selection.set(ids, source=None)
    menu = table.context_menu()
    copy = next(a for a in menu.actions() if a.text() == "Copy rows")
    assert copy.isEnabled()
    QApplication.clipboard().clear()
    copy.trigger()
    lines = QApplication.clipboard().text().strip().splitlines()
    assert len(lines) == 1 + len(ids) and "\t" in lines[0]  # header + the two rows
    menu.deleteLater()

    # removing, and a deleted action, leave the menu
    table.remove_context_action(second)
    assert table.context_actions() == before + [first]
    first.deleteLater()
    qtbot.waitUntil(lambda: table.context_actions() == before, timeout=2000)


OFFSCREEN_POPUP = r"^This plugin does not support (propagateSizeHints\(\)|raise\(\)|grabbing the keyboard)$"


@pytest.mark.qt_log_ignore(OFFSCREEN_POPUP)  # offscreen menus cannot grab the keyboard
def test_right_click_pops_the_menu(qtbot, small_window):
    table = small_window.table
    act = QAction("Hooked", table)
    table.add_context_action(act)
    pos = table.viewport().rect().center()
    ev = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, table.viewport().mapToGlobal(pos))
    QApplication.sendEvent(table.viewport(), ev)
    menu = table.findChild(QMenu, "event_table_menu")
    qtbot.waitUntil(lambda: menu is not None and menu.isVisible(), timeout=2000)
    assert "Hooked" in _texts(menu)
    menu.close()
    assert table.contextMenuPolicy() == Qt.ContextMenuPolicy.DefaultContextMenu
