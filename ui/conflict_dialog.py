"""The edit-conflict dialog: someone changed the event while you were editing it.

Shown by the window when the store refuses an edit with
:class:`nkbrief.store.VersionConflict`. It says who changed the event and when, lists
each field you changed with your value and theirs (the one stored now), and lets you keep
yours (your fields overwrite theirs; their changes to other fields stay) or keep theirs
(your edit is dropped). Either way the audit log holds both attempts.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

from nkbrief.store import VersionConflict

from .style import app_icon, style_dialog

MINE, THEIRS = "mine", "theirs"


def show_value(v) -> str:
    """A stored value as the analyst reads it."""
    if v is None or v == "" or v == []:
        return "(blank)"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "\n".join(map(str, v))
    return str(v)


class ConflictDialog(QDialog):
    """``ConflictDialog(conflict, parent)``; after ``exec()``, :attr:`choice` is MINE or THEIRS."""

    def __init__(self, conflict: VersionConflict, parent=None):
        super().__init__(parent)
        style_dialog(self)
        self.conflict = conflict
        self.choice = THEIRS  # closing the dialog keeps what is stored
        self.setObjectName("conflict_dialog")
        self.setWindowTitle("Edit conflict")
        self.setWindowIcon(app_icon())
        lay = QVBoxLayout(self)

        head = QLabel(self)
        head.setObjectName("conflict_summary")
        head.setWordWrap(True)
        head.setTextFormat(Qt.TextFormat.PlainText)
        head.setText(f"{conflict.event_id} was changed by {conflict.user} at {conflict.when} "
                     "since you opened it. Your edit was not saved.")
        bold = QFont(head.font())
        bold.setBold(True)
        head.setFont(bold)
        lay.addWidget(head)

        table = QTableWidget(len(conflict.yours), 3, self)
        table.setObjectName("conflict_table")
        table.setHorizontalHeaderLabels(["Field", "Yours", f"Theirs ({conflict.user})"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setWordWrap(True)
        differ = QColor("#fff3cd")
        for r, (field, mine) in enumerate(conflict.yours.items()):
            theirs = conflict.theirs.get(field)
            cells = [field.replace("_", " "), show_value(mine), show_value(theirs)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if c and mine != theirs:
                    item.setBackground(differ)
                table.setItem(r, c, item)
        h = table.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        table.resizeRowsToContents()
        rows_h = sum(table.rowHeight(r) for r in range(table.rowCount()))
        table.setFixedHeight(min(rows_h, 320) + h.sizeHint().height() + 2 * table.frameWidth() + 2)
        self.table = table
        lay.addWidget(table, 1)

        note = QLabel("Keep mine: your values replace theirs in the fields above; their changes to "
                      "other fields stay. Keep theirs: your edit is dropped. Both attempts are in the "
                      "audit log.", self)
        note.setWordWrap(True)
        note.setObjectName("muted")
        lay.addWidget(note)

        bb = QDialogButtonBox(self)
        self.mine_button = bb.addButton("Keep mine", QDialogButtonBox.ButtonRole.AcceptRole)
        self.theirs_button = bb.addButton("Keep theirs", QDialogButtonBox.ButtonRole.RejectRole)
        self.mine_button.setObjectName("keep_mine")
        self.theirs_button.setObjectName("keep_theirs")
        self.mine_button.clicked.connect(lambda: self.choose(MINE))
        self.theirs_button.clicked.connect(lambda: self.choose(THEIRS))
        self.theirs_button.setDefault(True)
        lay.addWidget(bb)
        self.resize(640, self.sizeHint().height())

    def choose(self, choice: str) -> None:
        self.choice = choice
        self.accept() if choice == MINE else self.reject()
