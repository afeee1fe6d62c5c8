"""The main window: wiring only. Timeline over table in the centre, the detail pane in a dock.

Extension hooks for feature modules (import dialog, pack dialog, timing view): each module
named in :data:`FEATURE_MODULES` has ``install(window)`` and may use ``window.store``,
``.selection``, ``.undo_stack``, ``.menus``, ``.toolbar``, ``.timeline``, ``.table``,
``.detail``, ``.add_dock()``, ``.add_lazy_attribute()``, ``.reload()`` and ``.visible_event_ids()``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
from pathlib import Path

# numpy and pandas load before the first PySide6 import: from then on, PySide6's __feature__
# import hook reads the source of every newly imported module to look for "PySide6", which
# costs about 80 ms of start-up across the hundreds of modules in numpy and pandas.
import numpy  # noqa: F401
import pandas  # noqa: F401
from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QDockWidget, QFileDialog, QFrame,
                               QHBoxLayout, QLabel, QMainWindow, QMenu, QMessageBox, QScrollArea, QSplitter,
                               QTextBrowser, QToolBar, QVBoxLayout, QWidget)

from nkbrief import __version__
from nkbrief.model import schema
from nkbrief.resources import resource_path
from nkbrief.selection import Selection
from nkbrief.store import Store, StoreError
from nkbrief.store import VersionConflict

from . import undo
from . import workers
from .detail_pane import DetailPane
from .event_table import EventTable
from .filter_bar import FilterBar
from .filter_chips import EmptyOverlay, FilterChips
from .selection_bridge import SelectionBridge
from .style import STATUS_BAR_STYLE, app_icon, icon, settings, settings_privacy_notes
from .timeline import Y_MODES, Timeline

_UNKNOWN = object()  # notes whose starting value is not known: saved unchecked

#: Feature modules installed after the window is built: ``importlib.import_module(name).install(window)``.
FEATURE_MODULES: list[str] = ["ui.timing_view", "ui.pack_dialog", "ui.import_actions", "ui.sync_actions"]

SCREENSHOT_SIZE = (1600, 1000)


def store_description(store) -> tuple[str, str]:
    """(short text, tooltip) naming the open store: a file, or a team server and the user."""
    if store.engine == "sqlite":
        text, tip = f"store: {store.where}", store.where
    else:  # "the team store 'nk' on db1:5432" (never a password)
        text, tip = f"{store.where} · {store.user}", f"{store.where} ({store.engine}), connected as {store.user}"
    why = store.read_only_reason
    if why:
        text, tip = text + " · read-only", f"{tip}\nRead-only: {why}"
    return text, tip


def _startup_trace(stage: str) -> None:
    """With $NKBRIEF_STARTUP_TRACE set, one line on stderr with the wall-clock time a
    deferred start-up reached ``stage`` ("first_paint", "ready") and the process's CPU time
    until then: bench/ reads it."""
    if os.environ.get("NKBRIEF_STARTUP_TRACE"):
        import time

        sys.stderr.write(f"nkbrief-startup {stage} {time.time()!r} {time.process_time()!r}\n")
        sys.stderr.flush()


class _FirstPaint(QObject):
    """Calls ``callback`` once, on the next event-loop turn after ``widget`` first paints."""

    def __init__(self, widget: QWidget, callback):
        super().__init__(widget)
        self._callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint and self._callback is not None:
            cb, self._callback = self._callback, None
            obj.removeEventFilter(self)
            QTimer.singleShot(0, cb)
        return False


class MainWindow(QMainWindow):
    """The analyst's window over one open :class:`nkbrief.store.Store`."""

    reloaded = Signal()  # after frames were re-read from the store
    first_painted = Signal()  # defer_features: after the first paint, before the features are installed
    features_ready = Signal()  # after every FEATURE_MODULES entry was installed

    def __init__(self, store: Store, parent=None, *, install_features: bool = True, restore: bool = True,
                 defer_features: bool = False):
        """``defer_features``: install FEATURE_MODULES (and restore the dock layout) right after
        the window's first paint instead of before it, so the analyst sees the data sooner.
        ``run_gui`` uses it for the interactive window; tests and screenshots do not."""
        super().__init__(parent)
        self.setObjectName("main_window")
        self.store = store
        self.selection = Selection()
        self.undo_stack = QUndoStack(self)
        self.menus: dict[str, QMenu] = {}
        self.frame = None
        self.calendar = None
        self._persist = restore
        #: Why the store cannot be written (a reader role): every edit action is off, with this
        #: as its tooltip; filtering, selection and packs still work. None when it can be written.
        self.read_only_reason: str | None = store.read_only_reason
        #: The open store as the status bar names it (ui/sync_actions.py adds "offline copy of …").
        self.store_text = store_description(store)
        self._store_lost: str | None = None
        self.setWindowTitle("nkbrief — " + (Path(str(store.path)).name if store.engine == "sqlite" else store.where))
        self.setWindowIcon(app_icon())
        # No style sheet on the window (ui/style.py says why): its parts carry their own looks.
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self.timeline = Timeline(self)
        self.table = EventTable(self)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("central_splitter")
        self.splitter.addWidget(self.timeline)
        self.splitter.addWidget(self.table)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 6)
        self.splitter.setChildrenCollapsible(False)
        self.filter_bar = FilterBar(self)
        self.filter_chips = FilterChips(self.filter_bar, self)
        central = QWidget(self)
        central.setObjectName("central")
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self.filter_chips)
        cl.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.empty_overlay = EmptyOverlay(self.table, self.filter_bar)

        self.detail = DetailPane(self)
        self.detail.set_store(store)
        self.detail.read_only_reason = self.read_only_reason
        self.detail_dock = self.add_dock(self.detail, "Details", Qt.DockWidgetArea.RightDockWidgetArea)
        self.detail_dock.setMinimumWidth(300)

        self.bridge = SelectionBridge(self.selection, self.table, self.timeline, self.detail, self)
        #: Actions that write to the store besides add, edit and delete (feature modules add theirs):
        #: off, with the reason as tooltip, while the store is read-only (:meth:`apply_read_only`).
        self.write_actions: list[QAction] = []
        self._build_actions()
        self._build_menus()
        self._build_toolbars()
        self._build_status()

        self.apply_read_only()
        self.filter_bar.filter_changed.connect(self._on_filter_bar_filter_changed)
        self.table.table_model.rows_changed.connect(self._update_status)
        self.table.doubleClicked.connect(lambda *_: self.edit_event())
        self.selection.on_change(lambda *_: self._on_selection_changed())
        self.detail.notes_saved.connect(self._on_detail_notes_saved)
        undo.error_handler = self._on_undo_failed
        self._undo_index = self.undo_stack.index()
        self.undo_stack.indexChanged.connect(self._on_undo_index_changed)
        from . import habits

        habits.install(self)

        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(0)
        self._reload_timer.timeout.connect(self.reload)
        store.on_change(self._on_store_changed)
        self._watch_store()
        self.setAcceptDrops(True)

        self.reload()
        self.resize(1500, 940)
        # The detail pane starts at a reading width; the table and timeline get the rest.
        self.resizeDocks([self.detail_dock], [400], Qt.Orientation.Horizontal)
        self.features_installed = False
        self._features_pending = bool(install_features and defer_features)
        self._first_paint = None
        if install_features and defer_features:
            if restore:
                self.restore_settings(docks=False)
            self._first_paint = _FirstPaint(self.table.viewport(), lambda: (
                _startup_trace("first_paint"), self.first_painted.emit(),
                self._install_features(restore_docks=restore)))
        else:
            if install_features:
                self._install_features(restore_docks=False)
            if restore:
                self.restore_settings()

    def _install_features(self, restore_docks: bool) -> None:
        """``install(window)`` of every FEATURE_MODULES entry, then (optionally) the dock layout."""
        for name in FEATURE_MODULES:
            importlib.import_module(name).install(self)
        self.features_installed = True
        self._features_pending = False
        if restore_docks:
            self.restore_settings(docks_only=True)
        self.features_ready.emit()
        if self._first_paint is not None:
            _startup_trace("ready")

    # ------------------------------------------------------------ hooks
    def add_lazy_attribute(self, name: str, build) -> None:
        """``window.<name>`` is ``build()``, called the first time it is read: a feature's widget
        that the window does not show at start (a dock behind another dock's tab) is built
        when it is first shown or asked for, not at start-up."""
        self.__dict__.setdefault("_lazy_attributes", {})[name] = build

    def __getattr__(self, name: str):
        # Only for attributes not found the normal way: a lazy one is built and kept.
        build = self.__dict__.get("_lazy_attributes", {}).pop(name, None)
        if build is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        try:
            value = build()
        except AttributeError as e:  # not "no such attribute": a fault while building it
            raise RuntimeError(f"building window.{name}: {e}") from e
        setattr(self, name, value)
        return value

    def add_dock(self, widget: QWidget, title: str,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Put ``widget`` in a dock (its show/hide toggle goes in the View menu)."""
        dock = QDockWidget(title, self)
        dock.setObjectName("dock_" + schema.slug(title))
        # The dock scrolls rather than forcing its content's minimum size on the window, so the
        # window still fits a 1280x720 screen. ``dock.content`` is ``widget``.
        scroll = QScrollArea(dock)
        scroll.setObjectName("dock_scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        scroll.setMinimumSize(200, 120)
        dock.content = widget
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        view = self.menus.get("View")
        if view is not None:
            view.insertAction(self._docks_anchor, dock.toggleViewAction())
        else:
            self._pending_docks = [*getattr(self, "_pending_docks", []), dock]
        return dock

    def visible_event_ids(self) -> list[str]:
        """Ids of the events the filters let through, in table order."""
        return self.table.table_model.view.visible_ids()

    def select_ids(self, ids, current: str | None = None) -> None:
        self.selection.set(list(ids), current=current, source=None)

    def reload(self) -> None:
        """Re-read events and calendar from the store; filters, sort and selection survive."""
        self._reload_timer.stop()
        self._seen_data_version = self._store_data_version()
        self.frame = self.store.events_frame()
        self.calendar = self.store.calendar_frame()
        self.timeline.set_data(self.frame, self.calendar)
        self.table.table_model.set_frame(self.frame)  # -> rows_changed: visible rows, selection
        self.detail.set_frames(self.frame, self.calendar, view=self.table.table_model.view)
        self.detail.refresh()
        self._update_status()
        self.reloaded.emit()

    def _on_store_changed(self, kind: str) -> None:
        if kind in ("events", "calendar", "statements"):
            self._reload_timer.start()  # coalesce the kinds of one commit into one reload

    #: How often the window looks for changes other processes made to the store (ms).
    STORE_POLL_MS = 1000
    #: The same on a team store: the look is local (the server's change notifications that
    #: arrived, no round trip), so it is done more often and a change shows within a second.
    TEAM_STORE_POLL_MS = 250

    def _watch_store(self) -> None:
        """Notice commits by other processes (another analyst's window, ``nkbrief edit``, an
        import): the store's data version (:meth:`Store.data_version`) changes when another connection commits.
        One cheap query a second; a change reloads, which keeps filters, sort, selection and
        the notes being typed."""
        self._seen_data_version = self._store_data_version()
        self._notes_base: dict[str, str | None] = {}
        self._store_poll = QTimer(self)
        self._store_poll.setObjectName("store_poll")
        self._store_poll.setInterval(self.STORE_POLL_MS if self.store.engine == "sqlite" else self.TEAM_STORE_POLL_MS)
        self._store_poll.timeout.connect(self.poll_store)
        self._store_poll.start()

    #: How often (seconds) a window whose team-store connection was lost tries to connect again.
    RECONNECT_S = 5.0

    def _store_data_version(self) -> int | None:
        try:
            v = self.store.data_version()
        except StoreError as e:  # a team store whose connection was lost: said once, not per poll
            import time

            if self._store_lost is None:
                self._store_lost = str(e)
                self._reconnect_at = time.monotonic() + self.RECONNECT_S
                self.status_store.setText("store: connection lost")
                QMessageBox.warning(self, "nkbrief", f"The connection to the store was lost: {e}\n\nThe "
                                    "window shows the data as it was; it refreshes when the store answers again.")
            elif self.store.engine != "sqlite" and time.monotonic() >= self._reconnect_at:
                self._reconnect_at = time.monotonic() + self.RECONNECT_S
                try:
                    new = Store.open(self.store.target)
                except StoreError:
                    return None  # still away: tried again later, said nothing more
                self._store_lost = None
                self.replace_store(new)
                self.statusBar().showMessage("The store answers again; the view is up to date.", 8000)
                return self._seen_data_version
            return None
        except Exception:  # a closed or vanished store: nothing to follow
            return None
        if self._store_lost is not None:
            self._store_lost = None
            self._seen_data_version = None  # reload (poll_store): changes made meanwhile are not missed
        return v

    def poll_store(self) -> bool:
        """Reload if another process changed the store since the last look; True if so."""
        v = self._store_data_version()
        if v is None or v == self._seen_data_version:
            return False
        back = self._seen_data_version is None
        notes = (self.detail.shown_event["id"], self.detail.notes_edit.toPlainText()) \
            if self.detail.notes_dirty() and self.detail.shown_event else None
        if notes:  # what the analyst started typing over, to check when the notes are saved
            self._notes_base.setdefault(notes[0], self.detail.shown_event.get("notes"))
        self.reload()
        if notes and self.detail.shown_event and self.detail.shown_event["id"] == notes[0]:
            self.detail.notes_edit.setPlainText(notes[1])  # still unsaved, still the analyst's
        self.statusBar().showMessage("The store answers again; the view is up to date." if back else
                                     "The store was changed by another program; the view is up to date.", 5000)
        return True

    # ---------------------------------------------------------- actions
    def _act(self, text, slot, shortcut=None, icon_name=None, tip=None) -> QAction:
        a = QAction(text, self)
        if icon_name:
            a.setIcon(icon(icon_name))
        if shortcut is not None:
            a.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(lambda *_: slot())
        return a

    def _build_actions(self) -> None:
        K = QKeySequence
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(K.StandardKey.Undo)
        self.undo_action.setIcon(icon("undo"))
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([K("Ctrl+Shift+Z"), K("Ctrl+Y")])
        self.redo_action.setIcon(icon("redo"))
        # The toolbar's Undo/Redo keep a short label (the stack's text, e.g. "Redo Delete
        # 2026-01-27-…", would push the toolbar wider); the full text is in the tooltip.
        self.undo_tool_action = self._act("Undo", self.undo_stack.undo, None, "undo")
        self.redo_tool_action = self._act("Redo", self.undo_stack.redo, None, "redo")
        for tool, full in ((self.undo_tool_action, self.undo_action), (self.redo_tool_action, self.redo_action)):
            tool.setObjectName(("undo" if tool is self.undo_tool_action else "redo") + "_tool_action")
        for sig in (self.undo_stack.canUndoChanged, self.undo_stack.canRedoChanged,
                    self.undo_stack.undoTextChanged, self.undo_stack.redoTextChanged):
            sig.connect(self._sync_undo_tools)
        self._sync_undo_tools()
        self.add_action = self._act("&Add event…", self.add_event, K(K.StandardKey.New), "add",
                                    "Add a launch event")
        self.edit_action = self._act("&Edit event…", self.edit_event, K("Ctrl+E"), "edit",
                                     "Edit the selected event")
        self.delete_action = self._act("&Delete", self.delete_events, K(K.StandardKey.Delete), "delete",
                                       "Delete the selected events (undoable)")
        # Delete only where events have focus, never while typing notes or a search.
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.table.addAction(self.delete_action)
        self.timeline.addAction(self.delete_action)
        self.copy_action = self._act("&Copy rows", self.table.copy_selection, None, "copy",
                                     "Copy the selected rows as tab-separated text (Ctrl+C in the table)")
        self.select_all_action = self._act("Select &all shown", self.select_all, None)
        self.clear_selection_action = self._act("Clear search, then selection", self.escape, K("Esc"))
        self.find_action = self._act("&Find…", self.filter_bar.focus_search, K(K.StandardKey.Find))
        self.export_png_action = self._act("Export timeline…", self.export_timeline_png,
                                           K("Ctrl+Shift+E"), "export-png",
                                           "Save the timeline as a PNG or SVG picture, with title, dates, "
                                           "classification marking and legend")
        self.zoom_selection_action = self._act("&Zoom to selection", self.timeline.zoom_to_selection,
                                               K("Ctrl+."), "zoom-selection", "Zoom the timeline to the selection")
        self.zoom_all_action = self._act("Show &all", self.timeline.zoom_to_all, K("Ctrl+0"), "zoom-all",
                                         "Show every event on the timeline")
        self.quit_action = self._act("&Quit", self.close, K(K.StandardKey.Quit))
        self.about_action = self._act("&About nkbrief", self.show_about)
        self.reset_layout_action = self._act("Reset layout", self.reset_layout)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        f.addAction(self.export_png_action)
        f.addSeparator()
        f.addAction(self.quit_action)
        e = mb.addMenu("&Edit")
        for a in (self.undo_action, self.redo_action, None, self.add_action, self.edit_action,
                  self.delete_action, None, self.copy_action, self.select_all_action,
                  self.clear_selection_action, None, self.find_action):
            e.addSeparator() if a is None else e.addAction(a)
        v = mb.addMenu("&View")
        ymenu = v.addMenu("Timeline shows")
        for a in self.timeline.mode_actions.values():
            ymenu.addAction(a)
        self.timeline.calendar_menu.setTitle("Political calendar")
        v.addMenu(self.timeline.calendar_menu)
        v.addAction(self.zoom_selection_action)
        v.addAction(self.zoom_all_action)
        v.addSeparator()
        self.columns_menu = v.addMenu("Table columns")
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        v.addSeparator()
        self._docks_anchor = v.addSeparator()
        v.addAction(self.reset_layout_action)
        h = mb.addMenu("&Help")
        h.addAction(self.about_action)
        self.menus = {"File": f, "Edit": e, "View": v, "Help": h}
        for dock in getattr(self, "_pending_docks", []):
            v.insertAction(self._docks_anchor, dock.toggleViewAction())
        self._pending_docks = []

    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        for a in self.table.column_menu().actions():
            self.columns_menu.addAction(a)

    def _build_toolbars(self) -> None:
        tb = QToolBar("Main toolbar", self)
        tb.setObjectName("main_toolbar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setIconSize(tb.iconSize().scaled(20, 20, Qt.AspectRatioMode.KeepAspectRatio))
        for a in (self.add_action, self.edit_action, self.delete_action, None, self.undo_tool_action,
                  self.redo_tool_action, None, self.zoom_selection_action, self.export_png_action):
            tb.addSeparator() if a is None else tb.addAction(a)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = tb
        self.addToolBarBreak()
        fb = QToolBar("Filters", self)
        fb.setObjectName("filter_bar")
        fb.addWidget(self.filter_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, fb)
        self.filter_toolbar = fb

    def _build_status(self) -> None:
        sb = self.statusBar()
        sb.setStyleSheet(STATUS_BAR_STYLE)
        self.status_counts = QLabel(self)
        self.status_counts.setObjectName("status_counts")
        self.status_store = QLabel(self)
        self.status_import = QLabel(self)
        sb.addWidget(self.status_counts)
        sb.addPermanentWidget(self.status_import)
        sb.addPermanentWidget(self.status_store)

    def _update_status(self) -> None:
        self._update_counts_status()
        self.status_store.setText(self.store_text[0])
        self.status_store.setToolTip(self.store_text[1])
        try:
            row = self.store.last_import()
        except Exception:  # a store from another tool may lack the table; the status is optional
            row = None
        self.status_import.setText(f"last import: {row[0]} ({row[1][:10]})" if row else "no imports yet")

    _status_rows = None  # the view.rows the cached shown/total/missiles text was made for
    _status_text = ""

    def _update_counts_status(self) -> None:
        """'N of M events · totals · K selected (H hidden)'. The totals of the shown events
        change only with the shown rows, so a selection change does not count them again."""
        view = self.table.table_model.view
        if view.rows is not self._status_rows:
            self._status_rows, self._status_text = view.rows, view.status_text()
        text = self._status_text
        n = len(self.selection)
        if n:
            rows = view.frame_rows_for_ids(self.selection.ids)
            hidden = int((view.inverse[rows] < 0).sum()) if rows.size else 0
            text += f" · {n:,} selected" + (f" ({hidden:,} hidden)" if hidden else "")
        self.status_counts.setText(text)

    # -------------------------------------------------------- handlers
    def _on_filter_bar_filter_changed(self, spec) -> None:
        self.table.table_model.set_filter(spec)

    def _on_selection_changed(self) -> None:
        n = len(self.selection)
        writable = not self.read_only_reason
        self.edit_action.setEnabled(n == 1 and writable)
        self.delete_action.setEnabled(n > 0 and writable)
        self.zoom_selection_action.setEnabled(n > 0)
        self._update_counts_status()  # the store and last-import labels do not follow the selection

    def _on_detail_notes_saved(self, event_id: str, text: str) -> None:
        # The notes the analyst started typing over: kept by poll_store when another process
        # changed the event meanwhile, else the ones the pane shows. Saving over notes someone
        # else changed since goes through the conflict dialog, as an edit does.
        shown = self.detail.shown_event
        base = self._notes_base.pop(event_id, shown.get("notes") if shown and shown["id"] == event_id
                                    else _UNKNOWN)
        expect = None if base is _UNKNOWN else {"notes": base}
        try:
            self.commit_edit(event_id, {"notes": text}, None, expect=expect, text=f"Edit notes of {event_id}")
        except StoreError as e:
            self.detail.notes_save_failed(str(e))

    def _sync_undo_tools(self, *_) -> None:
        st = self.undo_stack
        for tool, can, text, verb in ((self.undo_tool_action, st.canUndo(), st.undoText(), "Undo"),
                                      (self.redo_tool_action, st.canRedo(), st.redoText(), "Redo")):
            tool.setEnabled(can)
            tool.setToolTip(f"{verb} {text}" if can and text else f"Nothing to {verb.lower()}")

    def _on_undo_index_changed(self, index: int) -> None:
        """After a push, undo or redo: select the events that command touched (if it says)."""
        old, self._undo_index = self._undo_index, index
        if index == old:
            return
        cmd = self.undo_stack.command(index) if index < old else self.undo_stack.command(index - 1)
        if cmd is None:
            return
        name = "touched_after_undo" if index < old else "touched_after_redo"
        if index > old and getattr(cmd, "just_pushed", False):
            cmd.just_pushed = False
            name = "touched_after_push"
        get = getattr(cmd, name, None)
        ids = get() if callable(get) else None
        if ids is None:
            return
        self.reload()
        present = [i for i in ids if self.store.has_event(i)]
        self.selection.set(present, current=present[0] if len(present) == 1 else None, source=None)

    def _on_undo_failed(self, message: str) -> None:
        QMessageBox.warning(self, "nkbrief", f"The store refused the change: {message}")

    # ---------------------------------------------------------- editing
    def select_all(self) -> None:
        self.selection.set(self.visible_event_ids(), source=None)

    def escape(self) -> None:
        """Esc: clear the search first; when it is empty, clear the selection."""
        if not self.filter_bar.clear_search():
            self.selection.clear()

    def apply_read_only(self) -> None:
        """Turn every writing action off (the reason as its tooltip) on a read-only store, or
        back on; filtering, selection and packs are untouched."""
        why = self.read_only_reason
        self.detail.read_only_reason = why
        tips = self.__dict__.setdefault("_write_tips", {})
        if not why and not tips:
            return  # never read-only: the actions are as they were built
        n = len(self.selection)
        for a in (self.add_action, self.edit_action, self.delete_action, *self.write_actions):
            tips.setdefault(id(a), a.toolTip())
            a.setToolTip(f"Read-only: {why}" if why else tips[id(a)])
            a.setStatusTip(f"Read-only: {why}" if why else tips[id(a)])
            on = n == 1 if a is self.edit_action else n > 0 if a is self.delete_action else True
            a.setEnabled(on and not why)

    def replace_store(self, store: Store) -> None:
        """Show ``store`` instead of the open one, which is closed: the team store reconnected
        after a lost connection, an offline copy replaced by a push, or one just pulled
        (ui/sync_actions.py). Filters and selection are kept; the undo history is cleared (its
        steps belong to the other connection) and open editors of the old store are closed."""
        old = self.store
        old.remove_listener(self._on_store_changed)
        for name in ("calendar_editor", "import_dialog"):
            w = getattr(self, name, None)
            if w is not None:
                w.close()
                w.deleteLater()
                setattr(self, name, None)
        self.undo_stack.clear()
        self.store = store
        self.detail.set_store(store)
        store.on_change(self._on_store_changed)
        self.read_only_reason = store.read_only_reason
        self.store_text = store_description(store)
        self._store_poll.setInterval(self.STORE_POLL_MS if store.engine == "sqlite" else self.TEAM_STORE_POLL_MS)
        self.apply_read_only()
        self.reload()
        if old is not store:
            with contextlib.suppress(Exception):  # a lost connection may fail to close cleanly
                old.close()

    def refuse_if_read_only(self) -> bool:
        """True (and the reason in the status bar) when the store cannot be written."""
        if self.read_only_reason:
            self.statusBar().showMessage(f"Read-only: {self.read_only_reason}", 8000)
            return True
        return False

    def add_event(self) -> str | None:
        if self.refuse_if_read_only():
            return None
        # Deferred (start-up): the edit dialog costs about 28 ms the window need not pay until an
        # event is edited (median of 7 runs, 2026-12-07).
        from .edit_dialog import EventEditDialog

        dlg = EventEditDialog(self.store, None, self)
        if dlg.exec() != QDialog.DialogCode.Accepted or dlg.result_event is None:
            return None
        ev = dlg.result_event
        try:
            undo.push(self.undo_stack, undo.AddEventCommand(self.store, ev))
        except StoreError as e:
            QMessageBox.warning(self, "Add event", str(e))
            return None
        self.reload()
        self.select_ids([ev["id"]])
        return ev["id"]

    def edit_event(self, event_id: str | None = None) -> bool:
        from .edit_dialog import EventEditDialog  # Deferred (start-up): see add_event

        event_id = event_id or self.selection.current
        if not event_id or self.refuse_if_read_only():
            return False
        ev = self.store.get_event(event_id)
        if ev is None:
            return False
        version = self.store.event_version(event_id)  # what the analyst starts from
        dlg = EventEditDialog(self.store, ev, self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return False
        changes = dlg.changes()
        if not changes:
            return False
        try:
            return self.commit_edit(event_id, changes, version)
        except StoreError as e:
            QMessageBox.warning(self, "Edit event", str(e))
            return False

    def commit_edit(self, event_id: str, changes: dict, version: int | None, *, expect: dict | None = None,
                    text: str | None = None) -> bool:
        """Save an edit that started from ``version`` (or from the values ``expect``). If
        someone changed the event since, the conflict dialog shows both values and the
        analyst keeps theirs (False) or overwrites them (until it goes through). Other store
        errors are raised (StoreError)."""
        from .conflict_dialog import MINE, ConflictDialog

        while True:
            try:
                undo.push(self.undo_stack, undo.EditEventCommand(self.store, event_id, changes, text,
                                                                 if_version=version, expect=expect))
                break
            except VersionConflict as e:
                self.reload()
                dlg = ConflictDialog(e, self)
                dlg.exec()
                if dlg.choice != MINE:
                    self.statusBar().showMessage(f"Kept {e.user}'s version of {event_id}; your edit was "
                                                 "not saved.", 8000)
                    return False
                version, expect = e.version, None
        self.reload()
        return True

    def delete_events(self, ids=None, confirm: bool = True) -> bool:
        ids = list(ids if ids is not None else self.selection.ids)
        if not ids or self.refuse_if_read_only():
            return False
        if confirm:
            what = ids[0] if len(ids) == 1 else f"{len(ids):,} events"
            ans = QMessageBox.question(self, "Delete", f"Delete {what}? Undo (Ctrl+Z) brings "
                                       f"{'it' if len(ids) == 1 else 'them'} back.")
            if ans != QMessageBox.StandardButton.Yes:
                return False
        try:
            undo.push(self.undo_stack, undo.DeleteEventsCommand(self.store, ids))
        except StoreError as e:
            QMessageBox.warning(self, "Delete", str(e))
            return False
        self.reload()
        return True

    def export_timeline_png(self, path: str | None = None) -> str | None:
        """File ▸ Export timeline…: the plot alone with title, dates, marking and key (PNG or SVG)."""
        from .timeline_export import export_dialog

        return export_dialog(self, path)

    # ------------------------------------------------------------ about
    def show_about(self) -> QDialog:
        dlg = QDialog(self)
        dlg.setWindowTitle("About nkbrief")
        dlg.setWindowIcon(app_icon())
        lay = QVBoxLayout(dlg)
        top = QHBoxLayout()
        logo = QLabel(dlg)
        logo.setPixmap(app_icon().pixmap(64, 64))
        top.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        head = QLabel(f"<h2>nkbrief {__version__}</h2><p>A briefing workstation for analysts tracking "
                      "North Korean missile launches. It works offline: nothing here opens a network "
                      "connection.</p><p>Icons drawn for nkbrief. Data attribution below "
                      "(resources/DATA_SOURCES.md).</p>", dlg)
        head.setWordWrap(True)
        top.addWidget(head, 1)
        lay.addLayout(top)
        body = QTextBrowser(dlg)
        body.setOpenLinks(False)
        body.setOpenExternalLinks(False)
        p = resource_path("DATA_SOURCES.md")
        body.setMarkdown(p.read_text(encoding="utf-8") if p.exists() else "DATA_SOURCES.md is missing.")
        lay.addWidget(body, 1)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dlg)
        bb.rejected.connect(dlg.reject)
        lay.addWidget(bb)
        dlg.resize(640, 520)
        self.about_dialog = dlg
        dlg.open()
        return dlg

    # --------------------------------------------------------- drag/drop
    def dragEnterEvent(self, event):  # noqa: N802 (Qt override)
        if callable(getattr(self, "import_files", None)) and event.mimeData().hasUrls() and all(
                u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event):  # noqa: N802
        handler = getattr(self, "import_files", None)
        if not callable(handler) or not event.mimeData().hasUrls():
            event.ignore()
            return
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        handler(paths)

    # ---------------------------------------------------------- settings
    def restore_settings(self, *, docks: bool = True, docks_only: bool = False) -> None:
        """Window geometry, dock layout, splitter, table columns and timeline options."""
        s = settings()
        state = s.value("window/state")
        if docks and isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        if docks_only:
            return
        geo = s.value("window/geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        split = s.value("window/splitter")
        if isinstance(split, QByteArray) and not split.isEmpty():
            self.splitter.restoreState(split)
        self.table.restore_state(s)
        mode = s.value("timeline/mode")
        if mode in Y_MODES:
            self.timeline.set_y_mode(mode)
        cats = s.value("timeline/categories")
        if isinstance(cats, str):
            self.timeline.set_calendar_categories([c for c in cats.split(",") if c])

    def save_settings(self) -> None:
        s = settings()
        s.setValue("window/geometry", self.saveGeometry())
        if not self._features_pending:  # closed before the feature docks existed: keep their layout
            s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        self.table.save_state(s)
        s.setValue("timeline/mode", self.timeline.y_mode)
        s.setValue("timeline/categories", ",".join(sorted(self.timeline.calendar_categories)))
        s.sync()

    def reset_layout(self) -> None:
        self.removeDockWidget(self.detail_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.detail_dock)
        self.detail_dock.setFloating(False)
        self.detail_dock.show()
        self.table.reset_columns()
        self.splitter.setSizes([4, 6])

    def closeEvent(self, event):  # noqa: N802
        self._store_poll.stop()
        workers.shutdown()  # cancel running jobs and wait: none may call back into a closed window
        if self.detail.notes_dirty():
            self.detail.save_notes()
        if self._persist:
            self.save_settings()
        self.store.remove_listener(self._on_store_changed)
        super().closeEvent(event)


# ---------------------------------------------------------------- running
def _ensure_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    app.setOrganizationName("nkbrief")
    app.setApplicationName("nkbrief")
    app.setWindowIcon(app_icon())
    return app


def render_screenshot(window: MainWindow, path: str, size=SCREENSHOT_SIZE, message: str | None = None) -> str:
    """Render ``window`` at ``size`` into a PNG at ``path``; ``message`` in the status bar
    (shown once the window is, as :func:`run_gui` shows it)."""
    app = QApplication.instance()
    window.setMinimumSize(0, 0)
    window.resize(*size)
    window.show()
    if message:
        window.statusBar().showMessage(message, 30000)
    for _ in range(5):
        app.processEvents()
    window.timeline.plot.repaint()
    app.processEvents()
    img = window.grab()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.png")
    if not img.save(str(tmp), "PNG"):
        raise OSError(f"cannot write {out}")
    os.replace(tmp, out)
    return str(out)


def freeze_start_up_objects(window: MainWindow) -> None:
    """Move everything made so far (the modules, the window, its data) out of the collector's
    sight: ``gc.freeze()``, and start the collector, which ``ui.launch`` paused for start-up.
    They live as long as the window, yet each full collection walked them all again: the
    first one after the paint took about 50 ms of start-up to "ready" (about 100k objects,
    none of them garbage; measured 2026-12-07). They stay frozen until the store's data is
    first reloaded, then go back to the collector (``gc.unfreeze()``), so cycles the old
    frames leave behind are still collected."""
    gc.freeze()
    gc.enable()

    def thaw():
        window.reloaded.disconnect(thaw)
        gc.unfreeze()

    window.reloaded.connect(thaw)


def paint_on_the_window_thread() -> None:
    """Qt's raster engine hands every fill taller than about 96 lines (the timeline's grid
    lines, calendar bands, scroll bars: some 300 of them in the first frame) to a thread pool
    in slices, and waits for them. For fills this size the hand-off costs more than the fill:
    the pool's threads start, wake and are waited for, and on a busy workstation the window
    waits for them to be scheduled. Painted on the window's own thread, the pixels are the
    same (checked on the first frame) and start-up to the first paint took about 35 ms less
    CPU (median of 9 alternating runs, 2026-12-07). Qt reads ``QT_NO_GUI_THREADPOOL`` (its
    own switch: set, in any value, it keeps the raster work on the painting thread) when it
    first paints; a value already in the environment is left as it is."""
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def run_gui(args) -> int:
    """Open the window (``python main.py``), or render it to a PNG with ``--screenshot PATH``."""
    shot = getattr(args, "screenshot", None)
    if shot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") \
            and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    paint_on_the_window_thread()
    app = _ensure_app()
    try:
        store = Store.open(getattr(args, "db", None))
    except StoreError as e:
        sys.stderr.write(f"nkbrief: {e}\n")
        if not shot:
            QMessageBox.critical(None, "nkbrief", str(e))
        return 1
    window = MainWindow(store, restore=not shot, defer_features=not shot)
    window.first_painted.connect(lambda: freeze_start_up_objects(window))
    privacy_notes = store.privacy_notes + settings_privacy_notes()
    # Told once (the next start finds nothing to tighten), and only once the window is shown:
    # QStatusBar hides its own labels for a message only when they are visible, so a message
    # shown before show() was drawn over the event counts.
    notice = "Made private: " + "; ".join(privacy_notes) if privacy_notes else None
    from . import crash

    crash.install(window)  # unexpected errors: a plain dialog, the traceback in the crash log
    sel = getattr(args, "select", None)
    if sel:
        if not store.has_event(sel):
            sys.stderr.write(f"nkbrief: --select: no event with id {sel!r}\n")
            store.close()
            return 1
        window.select_ids([sel])
        window.timeline.zoom_to_all()
    if shot:
        try:
            render_screenshot(window, shot, getattr(args, "size", None) or SCREENSHOT_SIZE, message=notice)
        except OSError as e:
            sys.stderr.write(f"nkbrief: {e}\n")
            return 1
        finally:
            window.close()
            store.close()
        print(shot)
        return 0
    window.show()
    if notice:
        window.statusBar().showMessage(notice, 30000)
    code = app.exec()
    store.close()
    return code


if __name__ == "__main__":  # preview on the bundled data in a scratch store: python -m ui.app [--about]
    import tempfile

    _app = _ensure_app()
    _store = Store.open(Path(tempfile.mkdtemp(prefix="nkbrief-preview-")) / "preview.sqlite3")
    _win = MainWindow(_store, restore=False)
    _win.select_ids(["2026-01-27-srbm-north-of-pyongyang"] if _store.has_event(
        "2026-01-27-srbm-north-of-pyongyang") else [])
    _win.show()
    if "--about" in sys.argv:
        _win.show_about()
    sys.exit(_app.exec())
