"""The event table: a model over :class:`nkbrief.analysis.filtering.EventView` and its view.

Sorting and filtering happen in numpy inside the model (no QSortFilterProxyModel, which
took ~27 s to sort 100k rows). ``data()`` answers the display role from strings formatted
once per load and returns early for roles it does not handle. Selections are read and
written as merged row ranges, never row by row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import (QAbstractTableModel, QEvent, QItemSelection, QItemSelectionModel, QModelIndex, Qt,
                            Signal)
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QGuiApplication, QIcon, QKeySequence, QPainter, \
    QPixmap, QPolygonF
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QToolTip

from nkbrief.analysis.filtering import COLUMNS, DEFAULT_COLUMNS, NUMERIC_COLUMNS, EventView, FilterSpec, merge_runs
from nkbrief.model.schema import EVENT_FIELDS

from .style import class_qcolor, style_view

ID_ROLE = Qt.ItemDataRole.UserRole.value
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_ALIGN = Qt.ItemDataRole.TextAlignmentRole.value
_DECORATION = Qt.ItemDataRole.DecorationRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CLASS_COL = [k for k, _ in COLUMNS].index("missile_class")

#: Default widths in pixels (the header never measures contents: slow on big tables).
DEFAULT_WIDTHS = {
    "date": 84, "time_kst": 58, "missile_class": 84, "missile_name": 190, "count": 52,
    "distance_km": 96, "apogee_km": 88, "launch_site": 170, "outcome": 76,
    "confirmation": 96, "sources": 62, "time_utc": 150, "landing_area": 160, "leader_attended": 80,
    "coordinates": 120, "id": 260, "description": 320, "notes": 220,
}
#: Shorter header titles where the full one (kept for copies, the chooser and the tooltip)
#: would make the column wider than its content.
HEADER_TITLES = {"time_kst": "KST", "time_utc": "UTC"}
#: Columns that give up width first when the key facts must fit the window (never below MIN_FLEX).
FLEX_COLUMNS = ("missile_name", "launch_site")
MIN_FLEX = 100
_ICONS: dict[str, QIcon] = {}
_FUNNEL: list[QIcon] = []


def class_icon(cls: str) -> QIcon:
    """A class's colour swatch; the same pixmap when selected, so the hue never shifts."""
    ic = _ICONS.get(cls)
    if ic is None:
        pm = QPixmap(12, 12)
        pm.fill(class_qcolor(cls))
        ic = QIcon()
        for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
            ic.addPixmap(pm, mode)
        _ICONS[cls] = ic
    return ic


def funnel_icon() -> QIcon:
    """The header's mark for a column with an active filter."""
    if not _FUNNEL:
        pm = QPixmap(12, 12)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#1F5FAF"))
        from PySide6.QtCore import QPointF

        p.drawPolygon(QPolygonF([QPointF(0.5, 1), QPointF(11.5, 1), QPointF(7, 6.5), QPointF(7, 11),
                                 QPointF(5, 10), QPointF(5, 6.5)]))
        p.end()
        _FUNNEL.append(QIcon(pm))
    return _FUNNEL[0]


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
        self.filtered_keys: frozenset[str] = frozenset()  # columns with a filter: a funnel in the header

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
        keys = {k for k, _ in spec.values} | {k for k, _ in spec.excluded} | {k for k, _, _ in spec.ranges}
        if spec.date_from or spec.date_to:
            keys.add("date")
        if spec.classes is not None:
            keys.add("missile_class")
        if spec.outcome:
            keys.add("outcome")
        if spec.confirmation:
            keys.add("confirmation")
        if spec.has_notes:
            keys.add("notes")
        if frozenset(keys) != self.filtered_keys:
            self.filtered_keys = frozenset(keys)
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)
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
                return class_icon(self._classes[self.view.rows[index.row()]] or "unknown")
            return None
        return None

    def cell_text(self, row: int, column: int) -> str:
        """The full text of one visible cell."""
        return str(self.data(self.index(row, column)) or "")

    def headerData(self, section: int, orientation, role: int = _DISPLAY):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal:
            if role == _DISPLAY:
                return HEADER_TITLES.get(self._keys[section], COLUMNS[section][1])
            if role == _ALIGN and self._keys[section] in NUMERIC_COLUMNS:
                return _RIGHT
            if role == _DECORATION and self._keys[section] in self.filtered_keys:
                return funnel_icon()
            if role == _TOOLTIP:
                return (f"{COLUMNS[section][1]}: click to sort; right-click to filter this column "
                        "or choose columns")
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
    #: (column key, display value, exclude) from "Filter to / Exclude this value".
    value_filter_requested = Signal(str, str, bool)
    column_filter_requested = Signal(int)  # "Filter this column…" (logical column)
    show_on_timeline_requested = Signal()

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
        style_view(self)
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
            hh.setSectionHidden(i, COLUMNS[i][0] not in DEFAULT_COLUMNS)
        hh.sectionResized.connect(self._on_section_resized)
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
        self._menu_index = QModelIndex()
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

    def selected_ids_and_rows(self) -> tuple[tuple[str, ...], np.ndarray]:
        """(ids, frame rows) of the selected rows; the view remembers the ids with their rows,
        so the views that follow the selection need no id lookup."""
        return self.table_model.view.ids_for_view_rows_memo(self.selected_view_rows())

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

    def copy_cell(self, index: QModelIndex | None = None) -> str:
        """Copy one cell's full text (the one right-clicked, else the current one)."""
        idx = index if index is not None and index.isValid() else self.currentIndex()
        if not idx.isValid():
            return ""
        text = self.table_model.cell_text(idx.row(), idx.column())
        QGuiApplication.clipboard().setText(text)
        return text

    def copy_ids(self) -> str:
        """Copy the selected events' ids, one a line."""
        ids = self.selected_ids()
        text = "\n".join(ids) + ("\n" if ids else "")
        if ids:
            QGuiApplication.clipboard().setText(text)
        return text

    def cell_is_cut(self, index: QModelIndex) -> bool:
        """Whether a cell's text is wider than its column (so it shows elided)."""
        text = self.table_model.cell_text(index.row(), index.column())
        if not text:
            return False
        extra = 24 if index.column() == _CLASS_COL else 10
        return self.fontMetrics().horizontalAdvance(text) + extra > self.visualRect(index).width()

    def viewportEvent(self, event):  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.ToolTip:
            idx = self.indexAt(event.pos())
            if idx.isValid() and self.cell_is_cut(idx):
                QToolTip.showText(event.globalPos(), self.table_model.cell_text(idx.row(), idx.column()),
                                  self.viewport(), self.visualRect(idx))
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

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

    def context_menu(self, index: QModelIndex | None = None) -> QMenu:
        """The right-click menu over cell ``index``: the registered actions (e.g. build a pack
        from the selection), copy cell / rows / ids, filter to or exclude the cell's value,
        show on timeline, then the column's filter and the column chooser."""
        idx = index if index is not None and index.isValid() else self.currentIndex()
        self._menu_index = idx
        menu = QMenu(self)
        menu.setObjectName("event_table_menu")
        has_rows = self.selected_view_rows().size > 0
        for a in self._context_actions:  # e.g. "Build briefing pack…" from the selection
            menu.addAction(a)
        if self._context_actions:
            menu.addSeparator()
        cell = menu.addAction("Copy cell", lambda: self.copy_cell(self._menu_index))
        cell.setObjectName("copy_cell")
        cell.setEnabled(idx.isValid())
        self.copy_rows_action.setEnabled(has_rows)
        menu.addAction(self.copy_rows_action)
        ids = menu.addAction("Copy ids", self.copy_ids)
        ids.setObjectName("copy_ids")
        ids.setEnabled(has_rows)
        menu.addSeparator()
        if idx.isValid():
            key, title = COLUMNS[idx.column()]
            value = self.table_model.cell_text(idx.row(), idx.column())
            shown = value if len(value) <= 30 else value[:29] + "…"
            shown = f"“{shown}”" if value else "(blank)"
            a = menu.addAction(f"Filter to {title} = {shown}",
                               lambda: self.value_filter_requested.emit(key, value, False))
            a.setObjectName("filter_to_value")
            b = menu.addAction(f"Exclude {title} = {shown}",
                               lambda: self.value_filter_requested.emit(key, value, True))
            b.setObjectName("exclude_value")
        tl = menu.addAction("Show on timeline", self.show_on_timeline_requested.emit)
        tl.setObjectName("show_on_timeline")
        tl.setEnabled(has_rows)
        menu.addSeparator()
        if idx.isValid():
            col = idx.column()
            f = menu.addAction(f"Filter column {COLUMNS[col][1]}…", lambda: self.column_filter_requested.emit(col))
            f.setObjectName("filter_column")
        columns = self.column_menu()
        columns.setParent(menu, columns.windowFlags())  # goes with the menu
        menu.addMenu(columns)
        return menu

    def contextMenuEvent(self, event):  # noqa: N802 (Qt override)
        menu = self.context_menu(self.indexAt(event.pos()))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(event.globalPos())
        event.accept()

    # --------------------------------------------------------- columns
    def _on_header_menu_requested(self, pos) -> None:
        self.header_menu(self.horizontalHeader().logicalIndexAt(pos)).popup(
            self.horizontalHeader().mapToGlobal(pos))

    def header_menu(self, column: int) -> QMenu:
        """The header's right-click menu: filter this column, then the column chooser."""
        menu = self.column_menu()
        menu.setObjectName("header_menu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if 0 <= column < len(COLUMNS):
            first = menu.actions()[0]
            a = QAction(f"Filter {COLUMNS[column][1]}…", menu)
            a.setObjectName("filter_column")
            a.triggered.connect(lambda *_: self.column_filter_requested.emit(column))
            menu.insertAction(first, a)
            menu.insertSeparator(first)
        return menu

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
        """A column's starting width: its usual content, or its bold title plus the sort arrow
        and the filter mark, so a header is never clipped."""
        key, title = COLUMNS[column]
        title = HEADER_TITLES.get(key, title)
        f = QFont(self.horizontalHeader().font())
        f.setBold(True)
        return max(DEFAULT_WIDTHS.get(key, 100), QFontMetrics(f).horizontalAdvance(title) + 30)

    def fit_columns(self, available: int | None = None) -> None:
        """Narrow the name and site columns (not below MIN_FLEX) until the shown columns fit
        ``available`` pixels (default: the viewport), so the key facts are on screen."""
        hh = self.horizontalHeader()
        width = available if available is not None else self.viewport().width()
        if width <= 0:
            return
        self._fitting = True
        shown = [i for i in range(hh.count()) if not hh.isSectionHidden(i)]
        flex = [self.table_model.column_of(k) for k in FLEX_COLUMNS]
        flex = [i for i in flex if i in shown]
        for i in flex:  # from their usual width, so a wider window gives them room again
            hh.resizeSection(i, self.default_width(i))
        over = sum(hh.sectionSize(i) for i in shown) - width
        if over < 0 and flex:  # a wide window: name and site get the room (up to +200 each)
            extra = min(-over, 400 * len(flex) // 2)
            for i in flex:
                hh.resizeSection(i, hh.sectionSize(i) + extra // len(flex))
        while over > 0 and flex:
            room = [(i, hh.sectionSize(i) - MIN_FLEX) for i in flex if hh.sectionSize(i) > MIN_FLEX]
            if not room:
                break
            share = max(over // len(room), 1)
            for i, r in room:
                cut = min(share, r, over)
                hh.resizeSection(i, hh.sectionSize(i) - cut)
                over -= cut
        self._fitting = False

    def _on_section_resized(self, *_):
        if not getattr(self, "_fitting", False) and self.isVisible():
            self._auto_fit = False  # the analyst set a width: leave the widths alone from now on

    def resizeEvent(self, event):  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if getattr(self, "_auto_fit", True):
            self.fit_columns()

    def set_column_visible(self, column: int, visible: bool) -> None:
        hh = self.horizontalHeader()
        hh.setSectionHidden(column, not visible)
        if visible and hh.sectionSize(column) < 20:
            hh.resizeSection(column, self.default_width(column))

    def reset_columns(self) -> None:
        hh = self.horizontalHeader()
        for i in range(len(COLUMNS)):
            hh.setSectionHidden(i, COLUMNS[i][0] not in DEFAULT_COLUMNS)
            hh.moveSection(hh.visualIndex(i), i)
            hh.resizeSection(i, self.default_width(i))
        self._auto_fit = True
        self.fit_columns()

    def save_state(self, settings) -> None:
        settings.setValue("table/header", self.horizontalHeader().saveState())
        settings.setValue("table/columns", ",".join(k for k, _ in COLUMNS))
        settings.setValue("table/auto_fit", "1" if getattr(self, "_auto_fit", True) else "0")

    def restore_state(self, settings) -> None:
        state = settings.value("table/header")
        hh = self.horizontalHeader()
        if state is None:
            return
        if settings.value("table/columns") != ",".join(k for k, _ in COLUMNS) or not hh.restoreState(state) \
                or hh.count() != len(COLUMNS):
            self.reset_columns()  # saved by a version with other columns: start from the defaults
        else:  # the analyst's own widths are never refitted; fitted ones follow the window
            self._auto_fit = settings.value("table/auto_fit") == "1"
