"""The event table: a model over :class:`nkbrief.analysis.filtering.EventView` and its view.

Sorting and filtering happen in numpy inside the model (no QSortFilterProxyModel, which
took ~27 s to sort 100k rows). ``data()`` answers the display role from strings formatted
once per load and returns early for roles it does not handle. Selections are read and
written as merged row ranges, never row by row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView

from nkbrief.analysis.filtering import COLUMNS, NUMERIC_COLUMNS, EventView, FilterSpec, merge_runs
from nkbrief.model.schema import EVENT_FIELDS

from .style import class_qcolor

ID_ROLE = Qt.ItemDataRole.UserRole.value
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_ALIGN = Qt.ItemDataRole.TextAlignmentRole.value
_DECORATION = Qt.ItemDataRole.DecorationRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CLASS_COL = [k for k, _ in COLUMNS].index("missile_class")

#: Default widths in pixels (the header never measures contents: slow on big tables).
DEFAULT_WIDTHS = {
    "date": 92, "time_kst": 78, "missile_class": 96, "missile_name": 230, "count": 52,
    "distance_km": 96, "apogee_km": 88, "launch_site": 200, "outcome": 76,
    "confirmation": 96, "sources": 62,
}


def _empty_frame() -> pd.DataFrame:
    # plain arrays: building 23 empty Series costs a few ms at start-up
    return pd.DataFrame({c: np.empty(0, dtype=object) for c in [*EVENT_FIELDS, "missiles"]})


class EventTableModel(QAbstractTableModel):
    """The visible events, one row each; the event id is in ``ID_ROLE`` (Qt.UserRole)."""

    rows_changed = Signal()  # after a load, filter or sort changed which rows are shown

    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = EventView(_empty_frame())
        self._keys = [k for k, _ in COLUMNS]
        self._cols: list[np.ndarray | None] = [None] * len(COLUMNS)
        self._classes = self.view.display("missile_class")

    # ------------------------------------------------------------ loading
    def set_frame(self, frame: pd.DataFrame) -> None:
        """Show a new events frame, keeping the current filter and sort."""
        old = self.view
        self.beginResetModel()
        self.view = EventView(frame, spec=old.spec, sort_column=old.sort_column, ascending=old.ascending)
        self._cols = [None] * len(COLUMNS)
        self._classes = self.view.display("missile_class")
        self.endResetModel()
        self.rows_changed.emit()

    def set_filter(self, spec: FilterSpec) -> None:
        if spec == self.view.spec:
            return
        self.beginResetModel()
        self.view.set_filter(spec)
        self.endResetModel()
        self.rows_changed.emit()

    # ------------------------------------------------------------ Qt API
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else int(self.view.rows.size)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex, role: int = _DISPLAY):
        if role == _DISPLAY:
            c = index.column()
            col = self._cols[c]
            if col is None:
                col = self._cols[c] = self.view.display(self._keys[c])
            return col[self.view.rows[index.row()]]
        if role == ID_ROLE:
            return self.view.ids[self.view.rows[index.row()]]
        if role == _ALIGN:
            return _RIGHT if self._keys[index.column()] in NUMERIC_COLUMNS else None
        if role == _DECORATION:
            if index.column() == _CLASS_COL:
                return class_qcolor(self._classes[self.view.rows[index.row()]] or "unknown")
            return None
        return None

    def headerData(self, section: int, orientation, role: int = _DISPLAY):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal:
            if role == _DISPLAY:
                return COLUMNS[section][1]
            if role == _ALIGN and self._keys[section] in NUMERIC_COLUMNS:
                return _RIGHT
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self.view.sort(self._keys[column], order == Qt.SortOrder.AscendingOrder)
        # No persistent indexes to fix: selection is re-applied from nkbrief.selection.
        self.layoutChanged.emit()
        self.rows_changed.emit()

    # ------------------------------------------------------------ helpers
    def event_id(self, row: int) -> str:
        return str(self.view.ids[self.view.rows[row]])

    def column_of(self, key: str) -> int:
        return self._keys.index(key)


class EventTable(QTableView):
    """The table view: row selection, column chooser, Ctrl+C as TSV, persistent header.

    Right-click opens :meth:`context_menu`: the actions feature modules registered with
    :meth:`add_context_action`, then the table's own entries (Copy rows, the column chooser).
    """

    selection_edited = Signal()  # the user changed the selection in the table

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("event_table")
        self.table_model = EventTableModel(self)
        self.setModel(self.table_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setCornerButtonEnabled(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 6)
        hh = self.horizontalHeader()
        hh.setSectionsMovable(True)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setHighlightSections(False)
        hh.setStretchLastSection(False)
        hh.setSortIndicatorShown(True)
        for i in range(len(COLUMNS)):
            hh.resizeSection(i, self.default_width(i))
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.customContextMenuRequested.connect(self._on_header_menu_requested)
        self.setSortingEnabled(True)
        hh.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self._applying = False
        self._quiet = False  # the model is re-laying out rows: selection changes are not the user's
        self._context_actions: list[QAction] = []
        # The table's own edit entry for the menu. Its shortcut is only shown there (the
        # action is not added to the widget): Ctrl+C itself is handled by keyPressEvent.
        self.copy_rows_action = QAction("Copy rows", self)
        self.copy_rows_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
        self.copy_rows_action.setStatusTip("Copy the selected rows as tab-separated text")
        self.copy_rows_action.triggered.connect(lambda *_: self.copy_selection())
        self.selectionModel().selectionChanged.connect(self._on_selection_changed)
        m = self.table_model
        m.layoutAboutToBeChanged.connect(lambda *a: self._set_quiet(True))
        m.layoutChanged.connect(lambda *a: self._set_quiet(False))
        m.modelAboutToBeReset.connect(lambda: self._set_quiet(True))
        m.modelReset.connect(lambda: self._set_quiet(False))

    def _set_quiet(self, on: bool) -> None:
        self._quiet = on

    # --------------------------------------------------------- selection
    def selected_view_rows(self) -> np.ndarray:
        """Selected rows, sorted, read from the selection's ranges (not row by row)."""
        parts = [np.arange(r.top(), r.bottom() + 1, dtype=np.int64)
                 for r in self.selectionModel().selection()]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(parts))

    def selected_ids(self) -> list[str]:
        return self.table_model.view.ids_for_view_rows(self.selected_view_rows())

    def current_id(self) -> str | None:
        idx = self.currentIndex()
        if not idx.isValid() or not self.selectionModel().isRowSelected(idx.row(), QModelIndex()):
            return None
        return self.table_model.event_id(idx.row())

    def apply_selection(self, ids, current: str | None = None, scroll: bool = True) -> None:
        """Select exactly ``ids`` (those visible) with one select() of merged row ranges."""
        view = self.table_model.view
        rows = view.view_rows_for_ids(ids)
        sel = QItemSelection()
        last = self.table_model.columnCount() - 1
        m = self.table_model
        for a, b in merge_runs(rows):
            sel.select(m.index(a, 0), m.index(b, last))
        sm = self.selectionModel()
        self._applying = True
        try:
            flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                     | QItemSelectionModel.SelectionFlag.Rows)
            sm.select(sel, flags)
            cur_rows = view.view_rows_for_ids([current]) if current else rows[-1:]
            if cur_rows.size:
                idx = m.index(int(cur_rows[0]), max(self.currentIndex().column(), 0))
                sm.setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.NoUpdate)
                if scroll and not self.viewport().rect().intersects(self.visualRect(idx)):
                    self.scrollTo(idx, QAbstractItemView.ScrollHint.PositionAtCenter)
        finally:
            self._applying = False

    def _on_selection_changed(self, *_):
        if not (self._applying or self._quiet):
            self.selection_edited.emit()

    # --------------------------------------------------------- clipboard
    def copy_selection(self) -> str:
        """Copy the selected rows (visible columns, in on-screen order) as TSV."""
        rows = self.selected_view_rows()
        if rows.size == 0:
            return ""
        hh = self.horizontalHeader()
        keys = [COLUMNS[hh.logicalIndex(v)][0] for v in range(hh.count())
                if not hh.isSectionHidden(hh.logicalIndex(v))]
        text = self.table_model.view.tsv(rows, keys)
        QGuiApplication.clipboard().setText(text)
        return text

    def keyPressEvent(self, event):  # noqa: N802 (Qt override)
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    # --------------------------------------------------------- right-click menu
    def add_context_action(self, action: QAction) -> None:
        """Put ``action`` in the table's right-click menu (the hook for feature modules).

        Actions appear in the order added, above the table's own entries; adding one twice
        does nothing, and an action that is deleted leaves the menu. The action acts on the
        shared selection as usual (a right-click on a row selects it first).
        """
        if action in self._context_actions:
            return
        self._context_actions.append(action)
        action.destroyed.connect(lambda *_, a=action: self._forget_context_action(a))

    def remove_context_action(self, action: QAction) -> None:
        """Take ``action`` out of the right-click menu again."""
        self._forget_context_action(action)

    def _forget_context_action(self, action) -> None:
        self._context_actions = [a for a in self._context_actions if a is not action]

    def context_actions(self) -> list[QAction]:
        """The registered right-click actions, in menu order."""
        return list(self._context_actions)

    def context_menu(self) -> QMenu:
        """The right-click menu: registered actions, then Copy rows and the column chooser."""
        menu = QMenu(self)
        menu.setObjectName("event_table_menu")
        for a in self._context_actions:
            menu.addAction(a)
        if self._context_actions:
            menu.addSeparator()
        self.copy_rows_action.setEnabled(self.selected_view_rows().size > 0)
        menu.addAction(self.copy_rows_action)
        menu.addSeparator()
        columns = self.column_menu()
        columns.setParent(menu, columns.windowFlags())  # goes with the menu
        menu.addMenu(columns)
        return menu

    def contextMenuEvent(self, event):  # noqa: N802 (Qt override)
        menu = self.context_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(event.globalPos())
        event.accept()

    # --------------------------------------------------------- columns
    def _on_header_menu_requested(self, pos) -> None:
        self.column_menu().exec(self.horizontalHeader().mapToGlobal(pos))

    def column_menu(self) -> QMenu:
        """The column chooser: one checkable entry per column (the last visible one stays)."""
        hh = self.horizontalHeader()
        menu = QMenu(self)
        menu.setTitle("Columns")
        shown = sum(not hh.isSectionHidden(i) for i in range(hh.count()))
        for i, (_, title) in enumerate(COLUMNS):
            act = menu.addAction(title)
            act.setCheckable(True)
            act.setChecked(not hh.isSectionHidden(i))
            act.setEnabled(hh.isSectionHidden(i) or shown > 1)
            act.toggled.connect(lambda on, i=i: self.set_column_visible(i, on))
        menu.addSeparator()
        menu.addAction("Reset columns", self.reset_columns)
        return menu

    def default_width(self, column: int) -> int:
        """A column's starting width: its usual content, or its bold title plus the sort arrow."""
        key, title = COLUMNS[column]
        f = QFont(self.horizontalHeader().font())
        f.setBold(True)
        return max(DEFAULT_WIDTHS.get(key, 100), QFontMetrics(f).horizontalAdvance(title) + 34)

    def set_column_visible(self, column: int, visible: bool) -> None:
        hh = self.horizontalHeader()
        hh.setSectionHidden(column, not visible)
        if visible and hh.sectionSize(column) < 20:
            hh.resizeSection(column, self.default_width(column))

    def reset_columns(self) -> None:
        hh = self.horizontalHeader()
        for i in range(len(COLUMNS)):
            hh.setSectionHidden(i, False)
            hh.moveSection(hh.visualIndex(i), i)
            hh.resizeSection(i, self.default_width(i))

    def save_state(self, settings) -> None:
        settings.setValue("table/header", self.horizontalHeader().saveState())

    def restore_state(self, settings) -> None:
        state = settings.value("table/header")
        if state is not None:
            self.horizontalHeader().restoreState(state)
