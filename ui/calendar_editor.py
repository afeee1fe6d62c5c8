"""Edit the political calendar: add, edit, delete, import and export entries, with undo.

Every change goes through the store (so it is validated and audited) inside a
``QUndoCommand`` on the window's undo stack. A command is applied once *before* it is pushed,
so a store error reaches the user and nothing lands on the stack; undo and redo then apply
the inverse through the store again, which audits them too. Text is checked with
:func:`nkbrief.jobs.calendar_io.parse_calendar_row`, the same rules as a CSV import.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
                               QPlainTextEdit, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout)

from nkbrief.jobs import calendar_io
from nkbrief.model import schema
from nkbrief.analysis.context import CATEGORY_LABELS
from nkbrief.store import Store, StoreError
from nkbrief.write_guard import WriteRefused, write_error

from .style import style_dialog
from .undo import StoreCommand, push

ERROR_COLOUR = "#C8102E"


def _report_to_stderr(message: str) -> None:
    sys.stderr.write(f"nkbrief: {message}\n")


# ------------------------------------------------------------------ undo commands
class _CalendarCommand(StoreCommand):
    """A calendar edit; errors during undo/redo are reported to stderr unless told otherwise."""

    def __init__(self, store: Store, text: str, on_error: Callable[[str], None] | None = None):
        super().__init__(store, text, on_error or _report_to_stderr)


class AddCalendarEntryCommand(_CalendarCommand):
    def __init__(self, store: Store, entry: dict, **kw):
        super().__init__(store, f"Add calendar entry “{entry['title']}”", **kw)
        self.entry = dict(entry)

    def _do(self) -> None:
        calendar_io.store_entry(self.store, self.entry)

    def _undo(self) -> None:
        self.store.delete_calendar_entry(self.entry["id"])


class EditCalendarEntryCommand(_CalendarCommand):
    def __init__(self, store: Store, entry_id: str, changes: dict, **kw):
        super().__init__(store, f"Edit calendar entry {entry_id}", **kw)
        self.entry_id = entry_id
        self.changes = dict(changes)
        self.old: dict = {}

    def _do(self) -> None:
        self.old = self.store.update_calendar_entry(self.entry_id, self.changes)

    def _undo(self) -> None:
        self.store.update_calendar_entry(self.entry_id, self.old)


class DeleteCalendarEntriesCommand(_CalendarCommand):
    def __init__(self, store: Store, ids: list[str], **kw):
        n = len(ids)
        super().__init__(store, f"Delete {n} calendar entr{'y' if n == 1 else 'ies'}", **kw)
        self.ids = list(ids)
        self.removed: list[dict] = []

    def _do(self) -> None:
        with self.store.write():
            self.removed = [self.store.delete_calendar_entry(i) for i in self.ids]

    def _undo(self) -> None:
        with self.store.write():
            batch = self.store.new_batch("manual", details={"kind": "calendar", "undo": "delete"})
            for entry in self.removed:
                self.store.insert_calendar_entry(entry, batch)


class ImportCalendarCommand(_CalendarCommand):
    def __init__(self, store: Store, entries: list[dict], file_name: str, sha256: str | None, **kw):
        super().__init__(store, f"Import calendar {file_name}", **kw)
        self.entries, self.file_name, self.sha256 = entries, file_name, sha256
        self.result: calendar_io.CalendarImportResult | None = None

    def _do(self) -> None:
        self.result = calendar_io.import_calendar_entries(self.store, self.entries,
                                                          file_name=self.file_name, sha256=self.sha256)

    def _undo(self) -> None:
        if self.result is not None:
            calendar_io.undo_import(self.store, self.result)




# ------------------------------------------------------------------ one entry
class CalendarEntryDialog(QDialog):
    """Add (``entry=None``) or edit one entry; refuses to save while any problem remains."""

    def __init__(self, entry: dict | None = None, taken_ids=(), parent=None):
        super().__init__(parent)
        style_dialog(self)
        self.original = dict(entry) if entry else None
        self.taken_ids = set(taken_ids)
        self.setWindowTitle(f"Edit calendar entry {entry['id']}" if entry else "Add calendar entry")
        self.setMinimumWidth(520)
        cells = calendar_io.entry_cells(entry) if entry else {k: "" for k in calendar_io.HEADER}

        form = QFormLayout()
        self.fields: dict[str, QLineEdit | QPlainTextEdit | QComboBox] = {}
        self.id_edit = QLineEdit(cells["id"], self)
        self.id_edit.setPlaceholderText("made from category, date and title")
        self.id_edit.setReadOnly(entry is not None)
        form.addRow("Id", self.id_edit)
        self.date_edit = QLineEdit(cells["date"], self)
        self.date_edit.setPlaceholderText("YYYY-MM-DD (Korean date)")
        form.addRow("Date", self.date_edit)
        self.end_edit = QLineEdit(cells["end_date"], self)
        self.end_edit.setPlaceholderText("last day, for multi-day entries")
        form.addRow("End date", self.end_edit)
        self.category_combo = QComboBox(self)
        self.category_combo.addItem("—", "")
        for c in schema.CALENDAR_CATEGORIES:
            self.category_combo.addItem(CATEGORY_LABELS.get(c, c), c)
        self.category_combo.setCurrentIndex(max(0, self.category_combo.findData(cells["category"])))
        form.addRow("Category", self.category_combo)
        self.title_edit = QLineEdit(cells["title"], self)
        form.addRow("Title", self.title_edit)
        self.description_edit = QPlainTextEdit(cells["description"], self)
        self.description_edit.setFixedHeight(70)
        form.addRow("Description", self.description_edit)
        self.sources_edit = QPlainTextEdit("\n".join(entry.get("sources") or []) if entry else "", self)
        self.sources_edit.setPlaceholderText("one source per line")
        self.sources_edit.setFixedHeight(70)
        form.addRow("Sources", self.sources_edit)

        self.problems_label = QLabel(self)
        self.problems_label.setWordWrap(True)
        self.problems_label.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.problems_label)
        lay.addWidget(self.buttons)
        for w in (self.id_edit, self.date_edit, self.end_edit, self.title_edit):
            w.textChanged.connect(self._on_field_changed)
        for w in (self.description_edit, self.sources_edit):
            w.textChanged.connect(self._on_field_changed)
        self.category_combo.currentIndexChanged.connect(self._on_field_changed)
        # A new entry is checked as the analyst types, not on open: no red before any typing.
        self._edited = entry is not None
        self._refresh()

    def cells(self) -> dict:
        lines = [s.strip() for s in self.sources_edit.toPlainText().splitlines() if s.strip()]
        return {"id": self.id_edit.text(), "date": self.date_edit.text(), "end_date": self.end_edit.text(),
                "category": self.category_combo.currentData() or "", "title": self.title_edit.text(),
                "description": self.description_edit.toPlainText(), "sources": "\n".join(lines)}

    def check(self) -> tuple[dict | None, list[str]]:
        entry, problems = calendar_io.parse_calendar_row(self.cells())
        messages = [calendar_io._field_message(p) for p in problems]
        if entry is not None and self.original is None:
            if self.id_edit.text().strip():
                if entry["id"] in self.taken_ids:
                    messages.append(f"id '{entry['id']}' is already used")
            else:
                entry["id"] = calendar_io.make_calendar_id(entry["category"], entry["date"], entry["title"],
                                                           self.taken_ids)
        return (None if messages else entry), messages

    def changes(self) -> dict:
        """For an edit: the fields that differ from the stored entry."""
        entry, _ = self.check()
        if entry is None or self.original is None:
            return {}
        return {k: v for k, v in entry.items() if k != "id" and self.original.get(k) != v}

    def _on_field_changed(self, *_):
        self._edited = True
        self._refresh()

    def _refresh(self) -> None:
        entry, messages = self.check()
        if self._edited:
            self.problems_label.setStyleSheet(f"color: {ERROR_COLOUR};")
            self.problems_label.setText("\n".join(messages))
        else:
            self.problems_label.setStyleSheet("color: #6B7280;")
            self.problems_label.setText("A date, a category and a title are needed.")
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(entry is not None)

    def accept(self) -> None:  # Qt override
        entry, messages = self.check()
        if entry is None:
            self._edited = True
            self.problems_label.setStyleSheet(f"color: {ERROR_COLOUR};")
            self.problems_label.setText("\n".join(messages))
            return
        self.entry = entry
        super().accept()


# ------------------------------------------------------------------ the editor
class CalendarEditor(QDialog):
    """The calendar as a table with Add / Edit / Delete / Import / Export, undoable."""

    changed = Signal()

    def __init__(self, store: Store, undo_stack: QUndoStack, parent=None):
        super().__init__(parent)
        style_dialog(self)
        self.store = store
        self.undo_stack = undo_stack
        self.setWindowTitle("Political calendar")
        self.setObjectName("calendar_editor")
        self.resize(900, 600)
        self.setModal(False)

        top = QHBoxLayout()
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText("Filter titles…")
        self.search_edit.textChanged.connect(self.reload)
        top.addWidget(self.search_edit, 2)
        self.category_filter = QComboBox(self)
        self.category_filter.addItem("All categories", "")
        for c in schema.CALENDAR_CATEGORIES:
            self.category_filter.addItem(CATEGORY_LABELS.get(c, c), c)
        self.category_filter.currentIndexChanged.connect(self.reload)
        top.addWidget(self.category_filter, 1)

        self.table = QTableWidget(0, 5, self)
        self.table.setHorizontalHeaderLabels(["Date", "Ends", "Category", "Title", "Sources"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(False)
        for col, w in enumerate((92, 92, 130, 480, 60)):
            self.table.setColumnWidth(col, w)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        # newest first: the entries an analyst edits are mostly recent ones
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda *_: self.edit_selected())

        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add…", self)
        self.add_button.clicked.connect(lambda: self.add_entry())
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.clicked.connect(lambda: self.edit_selected())
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.import_button = QPushButton("Import CSV…", self)
        self.import_button.clicked.connect(lambda: self.import_csv())
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.undo_button = QPushButton("Undo", self)
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.redo_button = QPushButton("Redo", self)
        self.redo_button.clicked.connect(self.undo_stack.redo)
        for b in (self.add_button, self.edit_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addSpacing(12)
        for b in (self.import_button, self.export_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.undo_button, self.redo_button):
            buttons.addWidget(b)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        buttons.addWidget(close)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(self.undo_stack.canUndo())
        self.redo_button.setEnabled(self.undo_stack.canRedo())
        undo_sc = QAction(self)
        undo_sc.setShortcut(QKeySequence.StandardKey.Undo)
        undo_sc.triggered.connect(self.undo_stack.undo)
        redo_sc = QAction(self)
        redo_sc.setShortcut(QKeySequence.StandardKey.Redo)
        redo_sc.triggered.connect(self.undo_stack.redo)
        self.addActions([undo_sc, redo_sc])
        #: A store that cannot be written (a reader role): the editing buttons are off, with the reason.
        self.read_only_reason = getattr(store, "read_only_reason", None)
        if self.read_only_reason:
            for b in (self.add_button, self.edit_button, self.delete_button, self.import_button):
                b.setEnabled(False)
                b.setToolTip(f"Read-only: {self.read_only_reason}")
            self.table.itemDoubleClicked.disconnect()

        self.status_label = QLabel(self)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.status_label)
        lay.addLayout(buttons)

        store.on_change(self._on_store_changed)
        self.destroyed.connect(lambda *_: store.remove_listener(self._on_store_changed))
        self.reload()

    # ------------------------------------------------------------ table
    def reload(self, *_):
        cal = self.store.calendar_frame()
        self._ids = set(cal["id"])
        cat = self.category_filter.currentData()
        if cat:
            cal = cal[cal["category"] == cat]
        text = self.search_edit.text().strip().lower()
        if text:
            cal = cal[cal["title"].str.lower().str.contains(text, regex=False)]
        keep = set(self.selected_ids())
        t = self.table
        t.setSortingEnabled(False)
        t.clearContents()
        t.setRowCount(len(cal))
        for i, rec in enumerate(cal.to_dict("records")):
            end = rec["end_date"] if isinstance(rec["end_date"], str) else ""
            cells = [rec["date"], end, CATEGORY_LABELS.get(rec["category"], rec["category"]), rec["title"],
                     len(rec["sources"] or [])]
            for col, v in enumerate(cells):
                item = QTableWidgetItem()
                item.setData(Qt.ItemDataRole.DisplayRole, v)
                if col == 0:
                    item.setData(Qt.ItemDataRole.UserRole, rec["id"])
                if col == 3:
                    item.setToolTip(f"{rec['id']}\n{rec['description'] or ''}".strip())
                t.setItem(i, col, item)
        t.setSortingEnabled(True)
        for row in range(t.rowCount()):
            if t.item(row, 0).data(Qt.ItemDataRole.UserRole) in keep:
                t.selectRow(row)
        self.status_label.setText(f"{len(cal)} of {len(self._ids)} entries")
        self._update_buttons()

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in rows]

    def select_id(self, entry_id: str) -> None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == entry_id:
                self.table.selectRow(row)
                return

    def _update_buttons(self) -> None:
        n = len(self.selected_ids())
        writable = not getattr(self, "read_only_reason", None)
        self.edit_button.setEnabled(n == 1 and writable)
        self.delete_button.setEnabled(n >= 1 and writable)

    def _on_store_changed(self, kind: str) -> None:
        if kind == "calendar":
            self.reload()

    def _on_command_error(self, message: str) -> None:
        self.status_label.setText(message)
        self.status_label.setStyleSheet(f"color: {ERROR_COLOUR};")

    def _push(self, command: _CalendarCommand) -> bool:
        command.on_error = self._on_command_error
        try:
            push(self.undo_stack, command)
        except StoreError as e:
            QMessageBox.warning(self, "Political calendar", str(e))
            return False
        self.status_label.setStyleSheet("")
        self.changed.emit()
        return True

    # ------------------------------------------------------------ actions
    def add_entry(self, dialog: CalendarEntryDialog | None = None) -> str | None:
        dlg = dialog or CalendarEntryDialog(None, self._ids, self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        if self._push(AddCalendarEntryCommand(self.store, dlg.entry)):
            self.select_id(dlg.entry["id"])
            return dlg.entry["id"]
        return None

    def edit_selected(self, dialog: CalendarEntryDialog | None = None) -> bool:
        ids = self.selected_ids()
        if len(ids) != 1:
            return False
        entry = self.store.get_calendar_entry(ids[0])
        if entry is None:
            return False
        dlg = dialog or CalendarEntryDialog(entry, self._ids, self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return False
        changes = dlg.changes()
        if not changes:
            return False
        return self._push(EditCalendarEntryCommand(self.store, ids[0], changes))

    def delete_selected(self, confirm: bool = True) -> bool:
        ids = self.selected_ids()
        if not ids:
            return False
        if confirm:
            answer = QMessageBox.question(
                self, "Delete calendar entries",
                f"Delete {len(ids)} calendar entr{'y' if len(ids) == 1 else 'ies'}? You can undo this.")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        return self._push(DeleteCalendarEntriesCommand(self.store, ids))

    def import_csv(self, path: str | None = None) -> bool:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import calendar CSV", "",
                                                  "CSV files (*.csv);;All files (*)")
            if not path:
                return False
        p = Path(path)
        try:
            entries, rep = calendar_io.read_calendar_csv(p)
        except OSError as e:
            QMessageBox.warning(self, "Import calendar", f"{p.name}: {e.strerror or e}")
            return False
        if not rep.ok:
            box = QMessageBox(QMessageBox.Icon.Warning, "Import calendar",
                              f"{p.name} was not imported: {len(rep.problems)} "
                              f"problem{'s' if len(rep.problems) != 1 else ''}. Nothing was changed.\n\n"
                              + "\n".join(rep.messages()[:8]), QMessageBox.StandardButton.Ok, self)
            box.setDetailedText("\n".join(rep.messages()))
            self.last_problems = rep.messages()
            box.exec()
            return False
        sha = hashlib.sha256(p.read_bytes()).hexdigest()
        cmd = ImportCalendarCommand(self.store, entries, p.name, sha)
        if not self._push(cmd):
            return False
        r = cmd.result
        self.status_label.setText(f"{p.name}: {r.added} added, {r.updated} updated, {r.identical} identical")
        return True

    def export_csv(self, path: str | None = None) -> str | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export calendar CSV", "calendar.csv",
                                                  "CSV files (*.csv)")
            if not path:
                return None
        try:
            out = calendar_io.export_calendar_csv(self.store.calendar_frame(), path)
        except WriteRefused as e:
            QMessageBox.warning(self, "Export calendar", str(e))
            return None
        except OSError as e:
            QMessageBox.warning(self, "Export calendar", write_error(Path(path), e))
            return None
        self.status_label.setText(f"Wrote {out}")
        return str(out)


def install(window) -> QAction:
    """Edit ▸ Political calendar… opens the (single) calendar editor. Returns the action."""
    action = QAction("Political calendar…", window)
    action.setObjectName("edit_calendar_action")
    action.setStatusTip("Add, edit, delete, import or export political-calendar entries")

    def _open():
        editor = getattr(window, "calendar_editor", None)
        if editor is None:
            editor = CalendarEditor(window.store, window.undo_stack, window)
            window.calendar_editor = editor
        editor.show()
        editor.raise_()
        editor.activateWindow()

    action.triggered.connect(_open)
    menu = window.menus.get("Edit")
    if menu is not None:
        menu.addSeparator()
        menu.addAction(action)
    return action


if __name__ == "__main__":  # pragma: no cover - a manual look on the bundled data
    import tempfile

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    db = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp() + "/preview.sqlite3"
    st = Store.open(db)
    ed = CalendarEditor(st, QUndoStack())
    ed.show()
    if len(sys.argv) > 2:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(500, lambda: (ed.grab().save(sys.argv[2]), app.quit()))
    app.exec()
    st.close()
