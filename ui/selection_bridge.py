"""Keeps the table, the timeline and the detail pane in step with :class:`nkbrief.selection.Selection`.

The Selection is the only selection state. A view that changes it passes itself as
``source``; the bridge then updates every other view and skips the source, so nothing
echoes back. Table updates are one ``select()`` of merged row ranges.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication

from nkbrief.selection import Selection


class SelectionBridge(QObject):
    """Wires ``table`` (EventTable), ``timeline`` (Timeline) and ``detail`` (DetailPane) to ``selection``."""

    synced = Signal()  # after every view follows a selection change

    def __init__(self, selection: Selection, table, timeline, detail, parent=None):
        super().__init__(parent)
        self.selection = selection
        self.table = table
        self.timeline = timeline
        self.detail = detail
        selection.on_change(self._on_selection_changed)
        table.selection_edited.connect(self._on_table_selection_edited)
        timeline.points_picked.connect(self._on_timeline_points_picked)
        table.table_model.rows_changed.connect(self._on_table_rows_changed)

    # ---------------------------------------------------------- from views
    def _on_table_selection_edited(self) -> None:
        ids, _ = self.table.selected_ids_and_rows()
        cur = self.table.current_id()
        # Ctrl/Shift-clicks add to the selection: events the filters hide stay selected.
        mods = QGuiApplication.keyboardModifiers()
        if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            ids = [*self.hidden_selected(), *ids]
        self.selection.set(ids, current=cur, source=self.table)

    def hidden_selected(self) -> list[str]:
        """Selected ids the filters hide (they stay selected and come back with the rows)."""
        view = self.table.table_model.view
        ids = self.selection.ids
        if not ids:
            return []
        rows = view.frame_rows_for_ids(ids)
        shown = set(view.ids[rows[view.inverse[rows] >= 0]].tolist())
        return [i for i in ids if i not in shown]

    def _on_timeline_points_picked(self, ids, mode: str) -> None:
        ids = list(ids)
        if mode == "toggle":
            have = set(self.selection.ids)
            drop = [i for i in ids if i in have]
            if drop:
                self.selection.discard(drop, source=self.timeline)
            else:
                self.selection.set([*self.selection.ids, *ids], current=ids[-1] if ids else None,
                                   source=self.timeline)
        elif mode == "add":
            self.selection.set([*self.selection.ids, *ids], current=ids[-1] if ids else None,
                               source=self.timeline)
        else:
            self.selection.set(ids, current=ids[0] if len(ids) == 1 else None, source=self.timeline)

    def _on_table_rows_changed(self) -> None:
        """A load, filter or sort: re-apply the selection to the rows now shown.

        Selected events a filter hides stay selected (the status bar counts them as hidden)
        and are shown selected again when the filter lets them through."""
        view = self.table.table_model.view
        self.timeline.set_visible_rows(view.rows)
        ids = self.selection.ids
        if ids:
            known = set(view.ids[view.frame_rows_for_ids(ids)].tolist())
            if len(known) != len(ids):  # deleted (or undone) events leave the selection
                kept = [i for i in ids if i in known]
                cur = self.selection.current if self.selection.current in known else None
                self.selection.set(kept, current=cur, source=None)
                return
        self.table.apply_selection(ids, self.selection.current, scroll=False)
        self._show_timeline()
        self.synced.emit()

    # ------------------------------------------------------------ to views
    def _on_selection_changed(self, selection: Selection, source) -> None:
        if source is not self.table:
            self.table.apply_selection(selection.ids, selection.current, scroll=True)
        # The timeline keeps no selection of its own (its overlay is drawn from the Selection),
        # so redrawing it for its own pick is not an echo.
        self._show_timeline()
        self.detail.show_ids(selection.ids, selection.current)
        self.synced.emit()

    def _show_timeline(self) -> None:
        view = self.table.table_model.view
        rows = view.frame_rows_for_ids(self.selection.ids)
        rows = rows[view.inverse[rows] >= 0]  # the timeline marks only the events it shows
        cur = self.selection.current
        cur_row = view.frame_rows_for_ids([cur]) if cur else np.zeros(0, dtype=np.int64)
        cur_row = cur_row[view.inverse[cur_row] >= 0]
        self.timeline.show_selection(rows, int(cur_row[0]) if cur_row.size else None)
