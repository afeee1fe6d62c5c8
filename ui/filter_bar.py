"""The filter bar: free-text search, date range, classes, outcome, confirmation, has notes.

It only describes a filter (:class:`nkbrief.analysis.filtering.FilterSpec`); the table model applies
it with numpy and the timeline follows the table's visible rows. It also holds the filters
set elsewhere (per-column value lists and ranges from the table header, "filter to / exclude
this value" from the right-click menu, "from import batch N"), and lists every active filter
with a way to remove it (:meth:`active_filters`, shown as chips by :mod:`ui.filter_chips`).
A search or a date range it cannot read is not applied, and :attr:`problem` says why.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QMenu,
                               QToolButton, QWidget)

from nkbrief.model import schema
from nkbrief.analysis.filtering import COLUMNS, FilterSpec, QueryError, date_range, parse_query

from .style import class_qcolor, mark_invalid


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
    #: After every change of the controls: the active filters or the problem text changed.
    state_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("filter_bar_widget")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(6)

        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText('Search (Ctrl+F): "phrase" OR -not class:ICBM')
        self.search.setToolTip('Words match name, site, description, notes and id. "a phrase" matches as '
                               'written; a OR b matches either; -word leaves it out; field:value looks in '
                               'one field: class:, name:, site:, id:, outcome:, confirmation:, notes:, '
                               'description:, landing:, date:.')
        self.search.setProperty("base_tip", self.search.toolTip())
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(180)
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
            w.setMaximumWidth(112)
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
        self._values: dict[str, frozenset[str]] = {}
        self._excluded: dict[str, frozenset[str]] = {}
        self._ranges: dict[str, tuple[float | None, float | None]] = {}
        self._ids: tuple[frozenset[str], str] | None = None
        #: What the bar could not apply, in words ("" when all is well).
        self.problem = ""
        self._update_classes_label()

    # ------------------------------------------------------------------
    def spec(self) -> FilterSpec:
        """The filter the controls describe. A date range or search that cannot be read is
        left out, its box is marked, and :attr:`problem` says why in words."""
        problems = []
        lo, hi, date_problem = date_range(self.date_from.text(), self.date_to.text())
        self._mark(self.date_from, date_problem if date_problem and "From:" in date_problem else None)
        self._mark(self.date_to, date_problem if date_problem and ("To:" in date_problem
                                                                  or "range ends" in date_problem) else None)
        if date_problem:
            problems.append("Dates: " + date_problem)
        text = self.search.text().strip()
        try:
            parse_query(text)
            self._mark(self.search, None)
        except QueryError as e:
            problems.append(f"Search: {e} — search not applied")
            self._mark(self.search, str(e))
            text = ""
        self.problem = "; ".join(problems)
        chosen = frozenset(c for c, a in self.class_actions.items() if a.isChecked())
        classes = None if len(chosen) == len(self.class_actions) else chosen
        ids, label = self._ids if self._ids else (None, "")
        return FilterSpec(text=text, date_from=lo, date_to=hi,
                          classes=classes, outcome=self.outcome.currentData(),
                          confirmation=self.confirmation.currentData(),
                          has_notes=self.has_notes.isChecked(),
                          values=tuple(sorted(self._values.items())),
                          excluded=tuple(sorted(self._excluded.items())),
                          ranges=tuple((k, a, b) for k, (a, b) in sorted(self._ranges.items())),
                          ids=ids, ids_label=label)

    # ------------------------------------------------------------------ filters set elsewhere
    def column_values(self, key: str) -> frozenset[str] | None:
        return self._values.get(key)

    def column_range(self, key: str) -> tuple[float | None, float | None] | None:
        return self._ranges.get(key)

    def set_column_values(self, key: str, values) -> None:
        """Show only rows whose ``key`` column shows one of ``values`` (None: no value filter)."""
        if values is None:
            self._values.pop(key, None)
        else:
            self._values[key] = frozenset(values)
        self._emit()

    def exclude_value(self, key: str, value: str) -> None:
        """Hide rows whose ``key`` column shows ``value`` (the right-click "Exclude this value")."""
        self._excluded[key] = self._excluded.get(key, frozenset()) | {value}
        self._emit()

    def filter_to_value(self, key: str, value: str) -> None:
        """Show only rows whose ``key`` column shows ``value`` (the right-click "Filter to this value")."""
        self._excluded.pop(key, None)
        self.set_column_values(key, {value})

    def set_column_range(self, key: str, low: float | None, high: float | None) -> None:
        """Keep rows whose numeric ``key`` lies in [low, high] (both None: no range)."""
        if low is None and high is None:
            self._ranges.pop(key, None)
        else:
            self._ranges[key] = (low, high)
        self._emit()

    def set_ids(self, ids, label: str = "") -> None:
        """Show only these event ids (None: all), described by ``label`` ("from import batch 3")."""
        self._ids = None if ids is None else (frozenset(ids), label or f"{len(ids):,} chosen events")
        self._emit()

    def active_filters(self) -> list[tuple[str, object]]:
        """Every active filter as (label, function that removes it), in the bar's order."""
        out: list[tuple[str, object]] = []
        titles = dict(COLUMNS)

        def blank(v: str) -> str:
            return v if v else "(blank)"

        t = self.search.text().strip()
        if t:
            out.append((f"Search: {t}", self.clear_search))
        if self.date_from.text().strip() or self.date_to.text().strip():
            a, b = self.date_from.text().strip() or "…", self.date_to.text().strip() or "…"
            out.append((f"Dates: {a} – {b}", self._clear_dates))
        chosen = [c for c, a in self.class_actions.items() if a.isChecked()]
        if len(chosen) != len(self.class_actions):
            out.append((f"Class: {', '.join(chosen) if chosen else 'none'}", lambda: self.set_classes(None)))
        if self.outcome.currentIndex() > 0:
            out.append((f"Outcome: {self.outcome.currentText()}", lambda: self.outcome.setCurrentIndex(0)))
        if self.confirmation.currentIndex() > 0:
            out.append((f"Confirmation: {self.confirmation.currentText()}",
                        lambda: self.confirmation.setCurrentIndex(0)))
        if self.has_notes.isChecked():
            out.append(("Has notes", lambda: self.has_notes.setChecked(False)))
        for key, vals in sorted(self._values.items()):
            shown = sorted(map(blank, vals))
            text = ", ".join(shown[:3]) + (f" +{len(shown) - 3}" if len(shown) > 3 else "")
            out.append((f"{titles.get(key, key)}: {text or 'none'}", lambda k=key: self.set_column_values(k, None)))
        for key, vals in sorted(self._excluded.items()):
            shown = sorted(map(blank, vals))
            text = ", ".join(shown[:3]) + (f" +{len(shown) - 3}" if len(shown) > 3 else "")
            out.append((f"{titles.get(key, key)}: not {text}", lambda k=key: self._clear_excluded(k)))
        for key, (lo, hi) in sorted(self._ranges.items()):
            a = "…" if lo is None else f"{lo:g}"
            b = "…" if hi is None else f"{hi:g}"
            out.append((f"{titles.get(key, key)}: {a} – {b}", lambda k=key: self.set_column_range(k, None, None)))
        if self._ids is not None:
            out.append((self._ids[1][:1].upper() + self._ids[1][1:], lambda: self.set_ids(None)))
        return out

    def _clear_dates(self) -> None:
        for w in (self.date_from, self.date_to):
            w.blockSignals(True)
            w.clear()
            w.blockSignals(False)
        self._emit()

    def _clear_excluded(self, key: str) -> None:
        self._excluded.pop(key, None)
        self._emit()

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
        self._values.clear()
        self._excluded.clear()
        self._ranges.clear()
        self._ids = None
        self._emit()

    def clear_search(self) -> bool:
        """Empty the search box (now, not after the typing pause). False if it was empty."""
        if not self.search.text():
            return False
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._emit()
        return True

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
        self.state_changed.emit()

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
        mark_invalid(w, bad)
        w.setToolTip(problem if bad else w.property("base_tip"))
