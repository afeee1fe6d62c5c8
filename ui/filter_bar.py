"""The filter bar: free-text search, date range, classes, outcome, confirmation, has notes.

It only describes a filter (:class:`nkbrief.analysis.filtering.FilterSpec`); the table model applies
it with numpy and the timeline follows the table's visible rows.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QMenu,
                               QToolButton, QWidget)

from nkbrief.model import schema
from nkbrief.analysis.filtering import FilterSpec, parse_date_bound

from .style import class_qcolor


def _swatch_icon(color):
    from PySide6.QtGui import QIcon, QPainter, QPixmap

    pm = QPixmap(12, 12)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(color)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(1, 1, 10, 10)
    p.end()
    return QIcon(pm)


class FilterBar(QWidget):
    """Emits :attr:`filter_changed` with a FilterSpec whenever the analyst changes a control."""

    filter_changed = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("filter_bar_widget")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(6)

        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search name, site, description, notes (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(260)
        lay.addWidget(self.search, 3)

        lay.addWidget(QLabel("From", self))
        self.date_from = QLineEdit(self)
        self.date_to = QLineEdit(self)
        for w, tip in ((self.date_from, "first date: YYYY, YYYY-MM or YYYY-MM-DD"),
                       (self.date_to, "last date: YYYY, YYYY-MM or YYYY-MM-DD")):
            w.setPlaceholderText("YYYY-MM-DD")
            w.setToolTip(tip)
            w.setProperty("base_tip", tip)
            w.setClearButtonEnabled(True)
            w.setMaximumWidth(118)
        lay.addWidget(self.date_from)
        lay.addWidget(QLabel("to", self))
        lay.addWidget(self.date_to)

        self.classes_button = QToolButton(self)
        self.classes_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.classes_menu = QMenu(self.classes_button)
        self.class_actions: dict[str, QAction] = {}
        for c in schema.MISSILE_CLASSES:
            a = self.classes_menu.addAction(_swatch_icon(class_qcolor(c)), c)
            a.setCheckable(True)
            a.setChecked(True)
            a.toggled.connect(self._on_controls_changed)
            self.class_actions[c] = a
        self.classes_menu.addSeparator()
        self.classes_menu.addAction("All classes", lambda: self._set_all_classes(True))
        self.classes_menu.addAction("No classes", lambda: self._set_all_classes(False))
        self.classes_button.setMenu(self.classes_menu)
        lay.addWidget(self.classes_button)

        self.outcome = QComboBox(self)
        self.outcome.addItem("Any outcome", None)
        for o in schema.OUTCOMES:
            self.outcome.addItem(o.capitalize(), o)
        lay.addWidget(self.outcome)

        self.confirmation = QComboBox(self)
        self.confirmation.addItem("Confirmed or not", None)
        for c in schema.CONFIRMATIONS:
            self.confirmation.addItem(c.capitalize(), c)
        lay.addWidget(self.confirmation)

        self.has_notes = QCheckBox("Has notes", self)
        lay.addWidget(self.has_notes)

        self.clear_button = QToolButton(self)
        self.clear_button.setText("Clear filters")
        self.clear_button.clicked.connect(self.clear)
        lay.addWidget(self.clear_button)
        lay.addStretch(1)

        # Typing re-filters after a short pause rather than on every key.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self._emit)
        self.search.textChanged.connect(lambda *_: self._timer.start())
        self.date_from.textChanged.connect(lambda *_: self._timer.start())
        self.date_to.textChanged.connect(lambda *_: self._timer.start())
        self.outcome.currentIndexChanged.connect(self._on_controls_changed)
        self.confirmation.currentIndexChanged.connect(self._on_controls_changed)
        self.has_notes.toggled.connect(self._on_controls_changed)
        self._spec = FilterSpec()
        self._update_classes_label()

    # ------------------------------------------------------------------
    def spec(self) -> FilterSpec:
        """The filter the controls describe (invalid dates are left out and marked)."""
        bounds = []
        for w, end in ((self.date_from, False), (self.date_to, True)):
            try:
                bounds.append(parse_date_bound(w.text(), end=end))
                self._mark(w, None)
            except ValueError as e:
                bounds.append(None)
                self._mark(w, str(e))
        chosen = frozenset(c for c, a in self.class_actions.items() if a.isChecked())
        classes = None if len(chosen) == len(self.class_actions) else chosen
        return FilterSpec(text=self.search.text().strip(), date_from=bounds[0], date_to=bounds[1],
                          classes=classes, outcome=self.outcome.currentData(),
                          confirmation=self.confirmation.currentData(),
                          has_notes=self.has_notes.isChecked())

    def clear(self) -> None:
        """Reset every control; emits one filter_changed."""
        widgets = [self.search, self.date_from, self.date_to, self.outcome, self.confirmation,
                   self.has_notes, *self.class_actions.values()]
        for w in widgets:
            w.blockSignals(True)
        self.search.clear()
        self.date_from.clear()
        self.date_to.clear()
        self.outcome.setCurrentIndex(0)
        self.confirmation.setCurrentIndex(0)
        self.has_notes.setChecked(False)
        for a in self.class_actions.values():
            a.setChecked(True)
        for w in widgets:
            w.blockSignals(False)
        self._emit()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def set_classes(self, classes) -> None:
        """Check exactly ``classes`` (None: all)."""
        for c, a in self.class_actions.items():
            a.blockSignals(True)
            a.setChecked(classes is None or c in classes)
            a.blockSignals(False)
        self._emit()

    # ------------------------------------------------------------------
    def _set_all_classes(self, on: bool) -> None:
        self.set_classes(None if on else ())

    def _on_controls_changed(self, *_):
        self._emit()

    def _emit(self) -> None:
        self._timer.stop()
        self._update_classes_label()
        spec = self.spec()
        if spec != self._spec:
            self._spec = spec
            self.filter_changed.emit(spec)

    def _update_classes_label(self) -> None:
        chosen = [c for c, a in self.class_actions.items() if a.isChecked()]
        if len(chosen) == len(self.class_actions):
            text = "All classes"
        elif not chosen:
            text = "No classes"
        elif len(chosen) <= 2:
            text = ", ".join(chosen)
        else:
            text = f"{len(chosen)} classes"
        self.classes_button.setText(text + " ")

    @staticmethod
    def _mark(w: QLineEdit, problem: str | None) -> None:
        bad = problem is not None
        if bool(w.property("invalid")) != bad:
            w.setProperty("invalid", bad)
            w.style().unpolish(w)
            w.style().polish(w)
        w.setToolTip(problem if bad else w.property("base_tip"))
