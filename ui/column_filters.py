"""Per-column filters opened from the table header (right-click ▸ Filter …).

A categorical column gets a list of its values with counts, each with a tick (as in Excel's
AutoFilter), and a box to narrow the list; a numeric column gets a from–to range whose
problems are said in words. OK hands the choice to the filter bar
(:meth:`ui.filter_bar.FilterBar.set_column_values` / :meth:`~ui.filter_bar.FilterBar.set_column_range`),
which shows it as a chip with its own ×.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QPushButton, QVBoxLayout)

from nkbrief.analysis.filtering import COLUMNS, NUMERIC_COLUMNS

from .style import style_dialog

BLANK = "(blank)"


def parse_number(text: str) -> float | None:
    """'1,000' -> 1000.0; blank -> None; raises ValueError("'abc' is not a number")."""
    t = text.strip().replace(",", "").replace(" ", "")
    if not t:
        return None
    try:
        v = float(t)
    except ValueError:
        raise ValueError(f"'{text.strip()}' is not a number") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"'{text.strip()}' is not a number")
    return v


class ColumnFilterDialog(QDialog):
    """The filter of one column: a value list, or a numeric range."""

    def __init__(self, table, bar, column: int, parent=None):
        super().__init__(parent or table)
        style_dialog(self)
        self.setObjectName("column_filter")
        self.table, self.bar = table, bar
        self.key, self.title = COLUMNS[column]
        self.numeric = self.key in NUMERIC_COLUMNS
        self.setWindowTitle(f"Filter {self.title}")
        lay = QVBoxLayout(self)
        self.problem = QLabel(self)
        self.problem.setObjectName("filter_problem")
        self.problem.setStyleSheet("color: #9B1C14;")
        self.problem.setWordWrap(True)
        self.problem.hide()
        if self.numeric:
            self._build_range(lay)
        else:
            self._build_values(lay)
        lay.addWidget(self.problem)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.clear_button = bb.addButton("Clear this filter", QDialogButtonBox.ButtonRole.ResetRole)
        self.clear_button.clicked.connect(self.clear_filter)
        bb.accepted.connect(self.apply)
        bb.rejected.connect(self.reject)
        self.ok_button = bb.button(QDialogButtonBox.StandardButton.Ok)
        lay.addWidget(bb)
        self.resize(320, 420 if not self.numeric else 160)

    # ---------------------------------------------------------------- values
    def _build_values(self, lay) -> None:
        view = self.table.table_model.view
        current = self.bar.column_values(self.key)
        self.find = QLineEdit(self)
        self.find.setPlaceholderText("Narrow the list…")
        self.find.setClearButtonEnabled(True)
        self.find.textChanged.connect(self._narrow)
        lay.addWidget(self.find)
        row = QHBoxLayout()
        all_b, none_b = QPushButton("Tick all shown", self), QPushButton("Untick all shown", self)
        all_b.clicked.connect(lambda: self._tick_shown(True))
        none_b.clicked.connect(lambda: self._tick_shown(False))
        row.addWidget(all_b)
        row.addWidget(none_b)
        lay.addLayout(row)
        self.list = QListWidget(self)
        self.list.setObjectName("value_list")
        for value, n in view.value_counts(self.key):
            shown = value or BLANK
            it = QListWidgetItem(f"{shown}  ({n:,})")
            it.setData(Qt.ItemDataRole.UserRole, value)
            it.setToolTip(shown)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if current is None or value in current
                             else Qt.CheckState.Unchecked)
            self.list.addItem(it)
        lay.addWidget(self.list, 1)

    def _narrow(self, text: str) -> None:
        t = text.casefold()
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setHidden(bool(t) and t not in (it.data(Qt.ItemDataRole.UserRole) or BLANK).casefold())

    def _tick_shown(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for i in range(self.list.count()):
            if not self.list.item(i).isHidden():
                self.list.item(i).setCheckState(state)

    def set_checked(self, values) -> None:
        """Tick exactly ``values`` ('' is the blank value)."""
        want = set(values)
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setCheckState(Qt.CheckState.Checked if it.data(Qt.ItemDataRole.UserRole) in want
                             else Qt.CheckState.Unchecked)

    def checked_values(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    # ---------------------------------------------------------------- range
    def _build_range(self, lay) -> None:
        form = QFormLayout()
        cur = self.bar.column_range(self.key) or (None, None)
        self.low, self.high = QLineEdit(self), QLineEdit(self)
        for w, v, ph in ((self.low, cur[0], "no lower limit"), (self.high, cur[1], "no upper limit")):
            w.setPlaceholderText(ph)
            if v is not None:
                w.setText(f"{v:g}")
            w.textEdited.connect(lambda *_: self._check_range())
        form.addRow("From", self.low)
        form.addRow("To", self.high)
        lay.addLayout(form)
        note = QLabel("Inclusive. A distance given as a range matches when the ranges overlap; "
                      "events with no value are left out.", self)
        note.setWordWrap(True)
        note.setObjectName("muted")
        lay.addWidget(note)

    def _check_range(self) -> tuple[float | None, float | None] | None:
        """The range, or None with the problem shown in words (validated as the analyst types)."""
        try:
            lo, hi = parse_number(self.low.text()), parse_number(self.high.text())
        except ValueError as e:
            return self._say(str(e))
        if lo is not None and hi is not None and lo > hi:
            return self._say(f"the range ends ({hi:g}) below where it starts ({lo:g})")
        self._say("")
        return lo, hi

    def _say(self, text: str):
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        if hasattr(self, "ok_button"):
            self.ok_button.setEnabled(not text)
        return None

    # ---------------------------------------------------------------- apply
    def apply(self) -> None:
        if self.numeric:
            rng = self._check_range()
            if rng is None:
                return
            self.bar.set_column_range(self.key, *rng)
        else:
            values = self.checked_values()
            if not values:
                self._say("Tick at least one value (or Cancel).")
                return
            every = len(values) == self.list.count()
            self.bar.set_column_values(self.key, None if every else values)
        self.accept()

    def clear_filter(self) -> None:
        if self.numeric:
            self.bar.set_column_range(self.key, None, None)
        else:
            self.bar.set_column_values(self.key, None)
        self.accept()


def open_column_filter(window, column: int) -> ColumnFilterDialog | None:
    """Open the filter of ``column``; the Date column goes to the bar's date boxes instead."""
    key = COLUMNS[column][0]
    if key == "date":
        window.filter_bar.date_from.setFocus(Qt.FocusReason.ShortcutFocusReason)
        window.statusBar().showMessage("Dates are filtered in the bar: From … to … (YYYY, YYYY-MM or "
                                       "YYYY-MM-DD)", 6000)
        return None
    dlg = ColumnFilterDialog(window.table, window.filter_bar, column, window)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.column_filter_dialog = dlg
    dlg.open()
    return dlg
