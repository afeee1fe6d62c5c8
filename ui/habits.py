"""Analyst habits the main window learns from Excel and Timeline Explorer.

Installed by :class:`ui.app.MainWindow` when it is built (``install(window)``):

- the table's right-click "Filter to / Exclude this value", "Filter column …" and "Show on
  timeline" go to the filter bar and the timeline;
- Ctrl+A and Ctrl+C act on the events wherever the focus is (a text box keeps its own);
- View ▸ Show only an import batch… (the filter "from import batch N");
- Help ▸ nkbrief Help (F1), the offline help window;
- Tab never walks into a dock that is hidden behind another dock's tab.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QInputDialog, QWidget



def install(window) -> None:
    t = window.table
    bar = window.filter_bar
    t.value_filter_requested.connect(
        lambda key, value, exclude: bar.exclude_value(key, value) if exclude else bar.filter_to_value(key, value))
    t.column_filter_requested.connect(lambda col: _open_column_filter(window, col))
    t.show_on_timeline_requested.connect(window.timeline.zoom_to_selection)

    # Ctrl+A / Ctrl+C wherever the focus is: window-wide shortcuts; a focused text box
    # (search, notes, a date) overrides them with its own select-all and copy.
    K = QKeySequence
    window.select_all_action.setShortcut(K(K.StandardKey.SelectAll))
    window.copy_action.setShortcut(K(K.StandardKey.Copy))
    for a in (window.select_all_action, window.copy_action):
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        window.addAction(a)

    window.copy_ids_action = QAction("Copy &ids", window)
    window.copy_ids_action.setObjectName("copy_ids_action")
    window.copy_ids_action.setShortcut(K("Ctrl+Shift+C"))
    window.copy_ids_action.setStatusTip("Copy the selected events' ids, one a line")
    window.copy_ids_action.triggered.connect(lambda *_: t.copy_ids())
    window.addAction(window.copy_ids_action)
    edit = window.menus["Edit"]
    edit.insertAction(window.select_all_action, window.copy_ids_action)

    view = window.menus["View"]
    window.batch_filter_action = QAction("Show only an import &batch…", window)
    window.batch_filter_action.setObjectName("batch_filter_action")
    window.batch_filter_action.setStatusTip("Filter the events to those one import added or changed")
    window.batch_filter_action.triggered.connect(lambda *_: choose_batch_filter(window))
    view.insertAction(window.columns_menu.menuAction(), window.batch_filter_action)

    window.help_action = QAction("nkbrief &Help", window)
    window.help_action.setObjectName("help_action")
    window.help_action.setShortcut(K(K.StandardKey.HelpContents))
    window.help_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    window.help_action.triggered.connect(lambda *_: _show_help(window))
    window.addAction(window.help_action)
    help_menu = window.menus["Help"]
    first = help_menu.actions()[0] if help_menu.actions() else None
    help_menu.insertAction(first, window.help_action)
    if first is not None:
        help_menu.insertSeparator(first)

    window._tab_guard = _HiddenDockTabGuard(window)


def _open_column_filter(window, column: int):
    from .column_filters import open_column_filter  # Deferred (start-up): built on first use

    return open_column_filter(window, column)


def _show_help(window):
    from .help_window import show_help  # Deferred (start-up): built on first use

    return show_help(window)


def filter_to_batch(window, batch_id: int, file_name: str = "") -> list[str]:
    """Filter the window to the events import batch ``batch_id`` added or changed."""
    ids = window.store.batch_event_ids(batch_id)
    label = f"from import batch {batch_id}" + (f" ({file_name})" if file_name else "")
    window.filter_bar.set_ids(ids, label)
    return ids


def choose_batch_filter(window) -> list[str] | None:
    batches = window.store.import_batch_ids()
    if not batches:
        window.statusBar().showMessage("There are no imports to show (every batch so far came with "
                                       "the bundled data or was typed in).", 8000)
        return None
    items = [f"Batch {b}: {name or '(no file name)'}" for b, name in batches]
    choice, ok = QInputDialog.getItem(window, "Show an import batch", "Show only the events from:", items, 0,
                                      False)
    if not ok:
        return None
    b, name = batches[items.index(choice)]
    return filter_to_batch(window, b, name)


class _HiddenDockTabGuard(QObject):
    """Tab and Shift+Tab skip the widgets of docks hidden behind another dock's tab.

    Qt keeps a tabified dock's widgets "visible" to the focus chain while another tab
    covers it; each time the docks change, such widgets get ``NoFocus`` (and their policy
    back when the dock is on top again).
    """

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self._saved: dict[int, tuple[QWidget, Qt.FocusPolicy]] = {}
        if hasattr(window, "features_ready"):
            window.features_ready.connect(self.watch)
        window.installEventFilter(self)
        self.watch()

    def watch(self) -> None:
        for dock in self.window.findChildren(QDockWidget):
            if not dock.property("_tab_guarded"):
                dock.setProperty("_tab_guarded", True)
                dock.visibilityChanged.connect(lambda vis, d=dock: self._set(d, not vis))
        self.update()

    def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Show:
            QTimer.singleShot(0, self.update)
        return False

    def covered(self, dock: QDockWidget) -> bool:
        """Hidden, or tabified behind another dock's tab."""
        if dock.isHidden():
            return True
        if dock.isFloating() or not self.window.tabifiedDockWidgets(dock):
            return False
        return self.window.isVisible() and dock.visibleRegion().isEmpty()

    def update(self) -> None:
        try:
            docks = self.window.findChildren(QDockWidget)
        except RuntimeError:  # the window is being destroyed
            return
        for dock in docks:
            self._set(dock, self.covered(dock))

    def _set(self, dock: QDockWidget, hide: bool) -> None:
        try:
            content = dock.widget()
        except RuntimeError:
            return
        if content is None:
            return
        for w in [content, *content.findChildren(QWidget)]:
            key = id(w)
            if hide:
                if key not in self._saved and w.focusPolicy() != Qt.FocusPolicy.NoFocus:
                    self._saved[key] = (w, w.focusPolicy())
                    w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            elif key in self._saved:
                widget, policy = self._saved.pop(key)
                widget.setFocusPolicy(policy)

