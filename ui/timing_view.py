"""The Timing dock: how launches fall before political-calendar entries, tested against chance.

Controls (categories, window, scope, seed) drive :func:`nkbrief.analysis.timing.timing_analysis`,
which runs on the thread pool (a run over the whole dataset takes tens of milliseconds, but a
big selection with many simulations can take longer; a progress bar with Cancel appears if it
does). The result is shown in plain words, as a histogram of days to the next entry with
what random timing would give, and as a per-launch table whose rows select launches. The
chosen categories are highlighted on the timeline while the dock is shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDockWidget, QGridLayout,
                               QGroupBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
                               QScrollArea, QSpinBox, QStyle, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from nkbrief.model import schema
from nkbrief.selection import Selection
from nkbrief.store import Store
from nkbrief.analysis.context import CATEGORY_LABELS
from nkbrief.analysis.timing import (ASSUMPTIONS, BALLISTIC_CLASSES, DEFAULT_NULL, DEFAULT_SIMULATIONS,
                                     DEFAULT_WINDOW, MAX_WINDOW, MIN_ENTRIES, NULL_MODELS, SATELLITE_CLASS,
                                     format_p, timing_analysis)

from .style import style_dialog
from .workers import Worker, start

SCOPES = {"all": "All launches", "visible": "Launches shown in the table", "selection": "Selected launches"}
DEFAULT_CATEGORIES = ("party_congress", "summit")
SIMULATION_CHOICES = (1_000, 10_000, 100_000)
BUSY_DELAY_MS = 150  # show the progress row only for runs slower than this
#: Which launches count: (label, classes or None for every class).
CLASS_CHOICES = {
    "ballistic": ("Ballistic (" + ", ".join(BALLISTIC_CLASSES) + ")", list(BALLISTIC_CLASSES)),
    "satellite": ("Ballistic and satellite launches (SLV)", [*BALLISTIC_CLASSES, SATELLITE_CLASS]),
    "all": ("Every class (cruise, artillery…)", None),
}
WHEN_CHOICES = {
    None: "Default (exercises: during or 7 days before)",
    "before": "Before (1 to N days)",
    "during": "During",
    "around": "Around (during or N days before)",
}
NULL_CHOICES = {"shift": "Shift each year's pattern (keeps campaigns)",
                "shuffle": "Shuffle launch days (ignores campaigns)"}

ACCENT = "#C8102E"  # in-window bars and the window band (the timeline's highlight red)
MUTED = "#7A8794"
EXPECTED = "#1F2A36"


class TimingView(QWidget):
    """Timing analysis over a store's events and calendar.

    ``events``/``calendar`` come from :meth:`set_frames` (the window passes its frames);
    ``selection`` is the shared :class:`nkbrief.selection.Selection`; ``visible_ids`` a
    callable giving the ids the table shows. :attr:`highlight_changed` carries the
    categories to emphasise on the timeline (None when the view is hidden).
    """

    result_changed = Signal(object)  # the result dict, or None when there is nothing to test
    highlight_changed = Signal(object)  # set[str] | None
    calendar_edit_requested = Signal()
    failed = Signal(str)

    def __init__(self, selection=None, visible_ids=None, parent=None):
        super().__init__(parent)
        style_dialog(self)
        self.setObjectName("timing_view")
        self.selection = selection
        self.visible_ids = visible_ids
        self.events = pd.DataFrame(columns=["id", "date", "date_precision"])
        self.calendar = pd.DataFrame(columns=list(schema.CALENDAR_FIELDS))
        self.result: dict | None = None
        self._active = True
        self._dirty = True
        self._generation = 0
        self._worker: Worker | None = None
        self._workers: set[Worker] = set()
        self._filling_table = False
        self._build()
        self._schedule = QTimer(self)
        self._schedule.setSingleShot(True)
        self._schedule.setInterval(0)  # coalesce the changes of one event-loop turn
        self._schedule.timeout.connect(self.recompute)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(lambda: self.busy_row.setVisible(True))
        if selection is not None:
            selection.on_change(self._on_selection_changed)

    # ------------------------------------------------------------ building
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(6)

        box = QGroupBox("Calendar entries", self)
        grid = QGridLayout(box)
        grid.setContentsMargins(8, 4, 8, 6)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        self.category_boxes: dict[str, QCheckBox] = {}
        for i, cat in enumerate(schema.CALENDAR_CATEGORIES):
            cb = QCheckBox(CATEGORY_LABELS.get(cat, cat), box)
            cb.setObjectName(f"category_{cat}")
            cb.setChecked(cat in DEFAULT_CATEGORIES)
            cb.toggled.connect(self._on_controls_changed)
            grid.addWidget(cb, i // 2, i % 2)
            self.category_boxes[cat] = cb
        outer.addWidget(box)

        row = QHBoxLayout()
        row.addWidget(QLabel("Window", self))
        self.window_spin = QSpinBox(self)
        self.window_spin.setRange(1, MAX_WINDOW)
        self.window_spin.setValue(DEFAULT_WINDOW)
        self.window_spin.setSuffix(" days")
        self.window_spin.setToolTip("Before: a launch counts when an entry starts 1 to N days later. "
                                    "Around: also while it is under way. Exercises default to 7 days.")
        self.window_spin.valueChanged.connect(self._on_controls_changed)
        row.addWidget(self.window_spin)
        self.when_combo = QComboBox(self)
        self.when_combo.setObjectName("timing_when")
        for key, label in WHEN_CHOICES.items():
            self.when_combo.addItem(label, key)
        self.when_combo.setToolTip("Where a launch must fall relative to an entry to count")
        self.when_combo.currentIndexChanged.connect(self._on_controls_changed)
        row.addWidget(self.when_combo, 1)
        outer.addLayout(row)

        row = QHBoxLayout()
        row.addWidget(QLabel("Count", self))
        self.class_combo = QComboBox(self)
        self.class_combo.setObjectName("timing_classes")
        for key, (label, _) in CLASS_CHOICES.items():
            self.class_combo.addItem(label, key)
        self.class_combo.setToolTip("Which launches the test counts (ballistic only by default)")
        self.class_combo.currentIndexChanged.connect(self._on_controls_changed)
        row.addWidget(self.class_combo, 1)
        self.failed_check = QCheckBox("Failed launches count", self)
        self.failed_check.setObjectName("timing_failed")
        self.failed_check.setChecked(True)
        self.failed_check.setToolTip("A failed test was still launched on that day; untick to leave them out")
        self.failed_check.toggled.connect(self._on_controls_changed)
        row.addWidget(self.failed_check)
        outer.addLayout(row)

        row = QHBoxLayout()
        row.addWidget(QLabel("Scope", self))
        self.scope_combo = QComboBox(self)
        for key, label in SCOPES.items():
            self.scope_combo.addItem(label, key)
        self.scope_combo.currentIndexChanged.connect(self._on_controls_changed)
        row.addWidget(self.scope_combo, 1)
        row.addSpacing(8)
        row.addWidget(QLabel("Null", self))
        self.null_combo = QComboBox(self)
        self.null_combo.setObjectName("timing_null")
        for key, label in NULL_CHOICES.items():
            self.null_combo.addItem(label, key)
            self.null_combo.setItemData(self.null_combo.count() - 1, NULL_MODELS[key],
                                        Qt.ItemDataRole.ToolTipRole)
        self.null_combo.setCurrentIndex(list(NULL_CHOICES).index(DEFAULT_NULL))
        self.null_combo.setToolTip("What random timing means: " + NULL_MODELS[DEFAULT_NULL])
        self.null_combo.currentIndexChanged.connect(self._on_controls_changed)
        row.addWidget(self.null_combo, 1)
        outer.addLayout(row)

        row = QHBoxLayout()
        row.addWidget(QLabel("Seed", self))
        self.seed_spin = QSpinBox(self)
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(int(np.random.default_rng().integers(0, 1_000_000)))
        self.seed_spin.setToolTip("The same seed, data and settings always give the same p-value")
        self.seed_spin.valueChanged.connect(self._on_controls_changed)
        row.addWidget(self.seed_spin)
        self.new_seed_button = QPushButton("New seed", self)
        self.new_seed_button.clicked.connect(self._on_new_seed_clicked)
        row.addWidget(self.new_seed_button)
        row.addSpacing(8)
        row.addWidget(QLabel("Simulations", self))
        self.sims_combo = QComboBox(self)
        for n in SIMULATION_CHOICES:
            self.sims_combo.addItem(f"{n:,}", n)
        self.sims_combo.setCurrentIndex(SIMULATION_CHOICES.index(DEFAULT_SIMULATIONS))
        self.sims_combo.currentIndexChanged.connect(self._on_controls_changed)
        row.addWidget(self.sims_combo)
        row.addStretch(1)
        outer.addLayout(row)
        for combo in (self.when_combo, self.class_combo, self.scope_combo, self.null_combo):
            # long choices elide instead of widening the dock; the full text is in the list
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
            combo.setToolTip(combo.toolTip() or combo.currentText())

        self.busy_row = QWidget(self)
        b = QHBoxLayout(self.busy_row)
        b.setContentsMargins(0, 0, 0, 0)
        self.progress_bar = QProgressBar(self.busy_row)
        self.progress_bar.setTextVisible(True)
        b.addWidget(self.progress_bar, 1)
        self.cancel_button = QPushButton("Cancel", self.busy_row)
        self.cancel_button.clicked.connect(self.cancel)
        b.addWidget(self.cancel_button)
        self.busy_row.setVisible(False)
        outer.addWidget(self.busy_row)

        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("timing_summary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f = self.summary_label.font()
        f.setPointSizeF(f.pointSizeF() * 1.1)
        self.summary_label.setFont(f)
        outer.addWidget(self.summary_label)

        self.numbers_label = QLabel(self)
        self.numbers_label.setObjectName("timing_numbers")
        self.numbers_label.setWordWrap(True)
        self.numbers_label.setStyleSheet(f"color: {MUTED};")
        self.numbers_label.setToolTip("Assumptions and limitations:\n• " + "\n• ".join(ASSUMPTIONS))
        outer.addWidget(self.numbers_label)

        self.tests_table = QTableWidget(0, 7, self)
        self.tests_table.setObjectName("timing_tests")
        self.tests_table.setHorizontalHeaderLabels(["Category", "Entries", "In", "Exp.", "Ratio (95%)",
                                                    "p", "Adj. p"])
        self.tests_table.horizontalHeaderItem(3).setToolTip("Launch days expected in the windows under "
                                                            "random timing")
        self.tests_table.horizontalHeaderItem(4).setToolTip("Rate ratio (observed / expected) with its "
                                                            "95% interval from the null distribution")
        self.tests_table.horizontalHeaderItem(1).setToolTip(
            "Entries whose window falls in the analysed period (fewer than 5: the test cannot tell)")
        self.tests_table.horizontalHeaderItem(6).setToolTip("Holm-adjusted over the tests shown; the wording "
                                                            "follows this value")
        tv = self.tests_table.verticalHeader()
        tv.setVisible(False)
        tv.setDefaultSectionSize(self.fontMetrics().height() + 4)
        self.tests_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tests_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.tests_table.setWordWrap(False)
        th = self.tests_table.horizontalHeader()
        th.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        th.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the category takes what is left
        th.setMinimumSectionSize(24)
        self.tests_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tests_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tests_table.setVisible(False)
        outer.addWidget(self.tests_table)
        self.tests_note = QLabel(self)
        self.tests_note.setObjectName("timing_tests_note")
        self.tests_note.setWordWrap(True)
        self.tests_note.setStyleSheet(f"color: {MUTED};")
        outer.addWidget(self.tests_note)

        self.plot = pg.PlotWidget(self, background="w")
        self.plot.setObjectName("timing_histogram")
        self.plot.setMinimumHeight(170)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "days to the next entry")
        self.plot.setLabel("left", "launch days")
        for ax in ("bottom", "left"):
            self.plot.getAxis(ax).enableAutoSIPrefix(False)  # no "(x0.001)" on the empty plot
            self.plot.getAxis(ax).setPen(pg.mkPen(MUTED))
            self.plot.getAxis(ax).setTextPen(pg.mkPen(EXPECTED))
        band = QColor(ACCENT)
        band.setAlpha(28)
        self.window_band = pg.LinearRegionItem((0, DEFAULT_WINDOW), movable=False, brush=pg.mkBrush(band),
                                               pen=pg.mkPen(None))
        self.window_band.setZValue(-10)
        self.plot.addItem(self.window_band)
        self.bars_in = pg.BarGraphItem(x=[], height=[], width=6, brush=ACCENT, pen=pg.mkPen(None))
        self.bars_out = pg.BarGraphItem(x=[], height=[], width=6, brush=MUTED, pen=pg.mkPen(None))
        self.plot.addItem(self.bars_in)
        self.plot.addItem(self.bars_out)
        self.expected_curve = pg.PlotDataItem([0, 1], [0], stepMode="center",
                                              pen=pg.mkPen(EXPECTED, width=1.6, style=Qt.PenStyle.DashLine))
        self.plot.addItem(self.expected_curve)
        self.legend_label = QLabel(self)
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)
        self.legend_label.setText(
            f'<span style="color:{ACCENT}">■</span> launch days within the window &nbsp; '
            f'<span style="color:{MUTED}">■</span> later &nbsp; '
            f'<span style="color:{EXPECTED}">╌╌</span> expected under random timing')
        outer.addWidget(self.legend_label)
        outer.addWidget(self.plot, 2)
        self.overflow_label = QLabel(self)
        self.overflow_label.setWordWrap(True)
        self.overflow_label.setStyleSheet(f"color: {MUTED};")
        outer.addWidget(self.overflow_label)

        self.table = QTableWidget(0, 6, self)
        self.table.setObjectName("timing_table")
        self.table.setHorizontalHeaderLabels(["Date", "In", "Days to", "Next entry", "Days since",
                                              "Previous entry"])
        vh = self.table.verticalHeader()
        vh.setVisible(False)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        hh.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        for col, w in enumerate((86, 30, 62, 150, 82)):
            self.table.setColumnWidth(col, w)
        self.table.horizontalHeaderItem(2).setToolTip("Days until the next entry starts")
        self.table.horizontalHeaderItem(4).setToolTip("Days since the previous entry ended")
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.setMinimumHeight(6 * (self.fontMetrics().height() + 6) + 28)
        outer.addWidget(self.table, 3)

        row = QHBoxLayout()
        self.edit_calendar_button = QPushButton("Edit calendar…", self)
        self.edit_calendar_button.clicked.connect(self.calendar_edit_requested)
        row.addWidget(self.edit_calendar_button)
        row.addStretch(1)
        note = QLabel("p-values are Holm-adjusted over the categories tested. Caveats: hover the numbers.",
                      self)
        note.setStyleSheet(f"color: {MUTED}; font-size: 11px;")
        note.setWordWrap(True)
        row.addWidget(note)
        outer.addLayout(row)

    # ------------------------------------------------------------ state
    def categories(self) -> list[str]:
        return [c for c, cb in self.category_boxes.items() if cb.isChecked()]

    def set_categories(self, categories) -> None:
        want = set(categories)
        for c, cb in self.category_boxes.items():
            cb.setChecked(c in want)

    def scope(self) -> str:
        return self.scope_combo.currentData()

    def analysis_options(self) -> dict:
        """What counts and the null model, as :func:`nkbrief.analysis.timing.timing_analysis` takes them
        (the pack dialog passes these on)."""
        return {"when": self.when_combo.currentData(), "null": self.null_combo.currentData(),
                "classes": CLASS_CHOICES[self.class_combo.currentData()][1],
                "include_failed": self.failed_check.isChecked()}

    def set_scope(self, scope: str) -> None:
        self.scope_combo.setCurrentIndex(list(SCOPES).index(scope))

    def set_frames(self, events: pd.DataFrame, calendar: pd.DataFrame) -> None:
        """New data from the store (the window's frames); recomputes if shown."""
        self.events, self.calendar = events, calendar
        self._mark_dirty()

    def set_active(self, active: bool) -> None:
        """Shown (compute, highlight) or hidden (no work, no highlight)."""
        self._active = bool(active)
        self._emit_highlight()
        if self._active and self._dirty:
            self._schedule.start()

    def _mark_dirty(self) -> None:
        self._dirty = True
        if self._active:
            self._schedule.start()

    def _emit_highlight(self) -> None:
        cats = set(self.categories())
        self.highlight_changed.emit(cats if self._active and cats else None)

    def scoped_events(self) -> pd.DataFrame:
        ev = self.events
        scope = self.scope()
        if scope == "selection":
            ids = set(self.selection.ids) if self.selection is not None else set()
            return ev[ev["id"].isin(ids)]
        if scope == "visible" and self.visible_ids is not None:
            return ev[ev["id"].isin(set(self.visible_ids()))]
        return ev

    def observed_until(self) -> str | None:
        """The last day the data covers: the latest day-precision launch in the whole store."""
        ev = self.events
        if ev.empty:
            return None
        prec = ev["date_precision"].fillna("day") if "date_precision" in ev.columns else None
        dates = ev["date"] if prec is None else ev.loc[prec == "day", "date"]
        return None if dates.empty else str(dates.max())

    # ------------------------------------------------------------ computing
    def recompute(self) -> None:
        """Start a run with the current controls; a newer run supersedes an older one."""
        self._schedule.stop()
        self._dirty = False
        self.cancel(quiet=True)
        self._generation += 1
        gen = self._generation
        cats = self.categories()
        self._emit_highlight()
        if not cats:
            self._show_message("Choose at least one category.")
            return
        events = self.scoped_events()
        if self.scope() == "selection" and events.empty:
            self._show_message("Select launches in the table or on the timeline to test them "
                               "(or choose another scope).")
            self.result_changed.emit(None)
            return
        worker = Worker(timing_analysis, events, self.calendar, cats, window=self.window_spin.value(),
                        observed_until=self.observed_until(), seed=self.seed_spin.value(),
                        simulations=self.sims_combo.currentData(), **self.analysis_options())
        worker.signals.finished.connect(lambda res, g=gen: self._on_worker_finished(g, res))
        worker.signals.failed.connect(lambda msg, g=gen: self._on_worker_failed(g, msg))
        worker.signals.cancelled.connect(lambda g=gen, w=worker: self._on_worker_done(g, w))
        worker.signals.progressed.connect(lambda d, t, s, g=gen: self._on_worker_progressed(g, d, t, s))
        worker.signals.finished.connect(lambda *_a, g=gen, w=worker: self._on_worker_done(g, w))
        worker.signals.failed.connect(lambda *_a, g=gen, w=worker: self._on_worker_done(g, w))
        self._worker = worker
        self._workers.add(worker)
        self.progress_bar.setRange(0, 0)
        self._busy_timer.start()
        start(worker, QThreadPool.globalInstance())

    def cancel(self, quiet: bool = False) -> None:
        """Stop the running analysis; a result that arrives anyway is ignored."""
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
            self._generation += 1
        self._busy_timer.stop()
        self.busy_row.setVisible(False)
        if not quiet:
            self._show_message("Cancelled.")

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until every run has finished (for tests and shutdown)."""
        return QThreadPool.globalInstance().waitForDone(msecs)

    def _on_worker_progressed(self, gen: int, done: int, total: int, text: str) -> None:
        if gen != self._generation:
            return
        if total:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
        self.progress_bar.setFormat(text or "%p%")

    def _on_worker_done(self, gen: int, worker: Worker) -> None:
        self._workers.discard(worker)
        if gen == self._generation:
            self._worker = None
            self._busy_timer.stop()
            self.busy_row.setVisible(False)

    def _on_worker_failed(self, gen: int, message: str) -> None:
        if gen != self._generation:
            return
        self._show_message(f"The analysis failed: {message}")
        self.failed.emit(message)

    def _on_worker_finished(self, gen: int, result: dict) -> None:
        if gen != self._generation:
            return  # a newer run is on its way
        self.show_result(result)

    # ------------------------------------------------------------ showing
    def _show_message(self, text: str) -> None:
        self.result = None
        self.summary_label.setText(text)
        self.numbers_label.setText("")
        self.overflow_label.setText("")
        self._set_histogram(None)
        self._fill_tests([])
        self._fill_table([])

    def show_result(self, res: dict) -> None:
        self.result = res
        scope = {"all": "", "visible": " (launches shown in the table)",
                 "selection": " (selected launches)"}[self.scope()]
        self.summary_label.setText(res["summary"].replace(" fell ", f"{scope} fell ", 1)
                                   if res["launches"] else res["summary"])
        if res["launches"]:
            ratio = f"{res['ratio']:.2f}×" if res["ratio"] is not None else "–"
            ci = res["rate_ratio_interval"]
            if ci is not None:
                ratio += f" (95%: {ci[0]:.2f}–{ci[1]:.2f})"
            lo, hi = res["null_interval"]
            left = res["left_out"]
            left_out = "".join(f" · {n} {what} left out" for n, what in (
                (left["class"], "of other classes"), (left["failed"], "failed"),
                (left["date_precision"], "month/year-only")) if n)
            self.numbers_label.setText(
                f"Counted: {res['counted']} · observed {res['within_window']} of {res['launches']} launch "
                f"days ({res['events']} events) · expected {res['expected']:.2f} (95% of the null: "
                f"{lo}–{hi}) · rate ratio {ratio} · {format_p(res['p_value'])}, adjusted "
                f"{format_p(res['p_adjusted'])[2:]} (Holm, {res['family_size']} "
                f"test{'s' if res['family_size'] != 1 else ''}) · null: {res['null_name']} · "
                f"{res['simulations']:,} simulations, seed {res['seed']} · "
                f"{res['date_from']} to {res['date_to']}{left_out}")
        else:
            self.numbers_label.setText("")
        self._fill_tests(res.get("tests") or [])
        self._set_histogram(res)
        self._fill_table(res["per_launch"])
        self.result_changed.emit(res)

    def _set_histogram(self, res: dict | None) -> None:
        window = self.window_spin.value()
        self.window_band.setRegion((0, window + 0.5))
        if res is None or not res["launches"]:
            self.bars_in.setOpts(x=[], height=[])
            self.bars_out.setOpts(x=[], height=[])
            self.expected_curve.setData([0, 1], [0], stepMode="center")
            self.overflow_label.setText("")
            return
        h = res["histogram"]
        edges = np.array(h["edges"], dtype=float)
        centres = (edges[:-1] + edges[1:]) / 2 + 0.5
        obs = np.array(h["observed"], dtype=float)
        inside = edges[1:] <= window
        width = h["bin_days"] * 0.8
        self.bars_in.setOpts(x=centres[inside], height=obs[inside], width=width)
        self.bars_out.setOpts(x=centres[~inside], height=obs[~inside], width=width)
        self.expected_curve.setData(edges + 0.5, np.array(h["expected"]), stepMode="center")
        top = max(float(obs.max(initial=0)), float(max(h["expected"], default=0)), 1.0)
        self.plot.setXRange(0, edges[-1] + 1, padding=0.01)
        self.plot.setYRange(0, top * 1.15, padding=0)
        # counts: whole-number ticks (auto ticks would label 0.5 launch days)
        step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 10**9) if top / s <= 6)
        self.plot.getAxis("left").setTickSpacing(step, step)
        parts = []
        if h["beyond"] or h["beyond_expected"] > 0.05:
            parts.append(f"{h['beyond']} more than {h['edges'][-1]} days away "
                         f"(random: {h['beyond_expected']:.1f})")
        if h["none"] or h["none_expected"] > 0.05:
            parts.append(f"{h['none']} with no later entry in the calendar (random: {h['none_expected']:.1f})")
        straddle = "" if window % h["bin_days"] == 0 else \
            f" The bar holding day {window} straddles the window's end; the table tells the launches apart."
        self.overflow_label.setText(("Not drawn: " + "; ".join(parts) + "." if parts else "") + straddle)

    def _fill_tests(self, tests: list[dict]) -> None:
        """One row per test (a category, and 'any of them' with several): the family Holm adjusts."""
        t = self.tests_table
        t.setRowCount(len(tests))
        t.setVisible(len(tests) > 1)
        muted = QColor(MUTED)
        for i, r in enumerate(tests):
            ci = r["rate_ratio_interval"]
            ratio = "–" if r["ratio"] is None else f"{r['ratio']:.2f}"
            if ci is not None:
                ratio += f" ({ci[0]:.1f}–{ci[1]:.1f})"
            cells = [r["label"], r["entries_in_period"], r["within_window"], f"{r['expected']:.1f}", ratio,
                     format_p(r["p_value"])[4:] if r["p_value"] >= 0.001 else "< 0.001",
                     (format_p(r["p_adjusted"])[4:] if r["p_adjusted"] >= 0.001 else "< 0.001")]
            for col, v in enumerate(cells):
                item = QTableWidgetItem(str(v))
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                tip = r["verdict"] + (f" Window: {r['window']['phrase']}." if r["window"] else "")
                item.setToolTip(tip)
                if not r["can_tell"]:
                    item.setForeground(muted)
                elif r["p_adjusted"] < 0.05:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                t.setItem(i, col, item)
        bold = t.font()
        bold.setBold(True)
        fmb = QFontMetrics(bold)
        for col in range(1, t.columnCount()):  # numbers: as wide as their widest text, no wider
            texts = [t.horizontalHeaderItem(col).text()] + [t.item(i, col).text() for i in range(len(tests))]
            t.setColumnWidth(col, max(fmb.horizontalAdvance(x) for x in texts) + 10)
        blind = [r["label"] for r in tests if not r["can_tell"]]
        self.tests_note.setText(
            f"Grey: the test cannot tell ({', '.join(blind)}: fewer than {MIN_ENTRIES} entries in the "
            "period). Bold: adjusted p below 0.05." if blind and len(tests) > 1 else "")
        self.tests_note.setVisible(bool(self.tests_note.text()))
        rows = min(len(tests), 6)
        t.setFixedHeight(t.horizontalHeader().height() + rows * t.verticalHeader().defaultSectionSize() + 4)

    def _fill_table(self, rows: list[dict]) -> None:
        self._filling_table = True
        t = self.table
        t.setSortingEnabled(False)
        t.clearContents()
        t.setRowCount(len(rows))
        accent = QColor(ACCENT)
        for i, r in enumerate(rows):
            nxt, prv = r["next"], r["previous"]
            cells = [r["date"], "●" if r["within_window"] else "",
                     nxt["days"] if nxt else None, nxt["title"] if nxt else "—",
                     prv["days"] if prv else None, prv["title"] if prv else "—"]
            for col, v in enumerate(cells):
                item = QTableWidgetItem()
                if isinstance(v, int):
                    item.setData(Qt.ItemDataRole.DisplayRole, v)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                else:
                    item.setText("" if v is None else str(v))
                if col == 0:
                    item.setData(Qt.ItemDataRole.UserRole, r["id"])
                    item.setToolTip(r["id"])
                if col == 1:
                    item.setForeground(accent)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if col == 3 and nxt:
                    item.setToolTip(nxt["phrase"])
                if col == 5 and prv:
                    item.setToolTip(prv["phrase"])
                t.setItem(i, col, item)
        t.setSortingEnabled(True)
        self._filling_table = False
        self._show_selection()

    def _show_selection(self) -> None:
        if self.selection is None:
            return
        # in the selection scope every row is selected by definition; marking them all hides the table
        chosen = set(self.selection.ids) if self.scope() != "selection" else set()
        self._filling_table = True
        t = self.table
        t.clearSelection()
        mode = t.selectionMode()
        t.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        first = None
        for row in range(t.rowCount()):
            item = t.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) in chosen:
                t.selectRow(row)
                first = item if first is None else first
        t.setSelectionMode(mode)
        if first is not None:
            t.scrollToItem(first, QAbstractItemView.ScrollHint.PositionAtTop)
        else:
            t.scrollToTop()
        self._filling_table = False

    def selected_table_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in rows]

    # ------------------------------------------------------------ handlers
    def _on_controls_changed(self, *_):
        self._emit_highlight()
        self._mark_dirty()

    def _on_new_seed_clicked(self) -> None:
        old, rng = self.seed_spin.value(), np.random.default_rng()
        new = old
        while new == old:
            new = int(rng.integers(0, 1_000_000))
        self.seed_spin.setValue(new)

    def _on_selection_changed(self, selection, source) -> None:
        if source is self:
            return
        if self.scope() == "selection":
            self._mark_dirty()
        else:
            self._show_selection()

    def _on_table_selection_changed(self) -> None:
        if self._filling_table or self.selection is None:
            return
        ids = self.selected_table_ids()
        if ids:
            self.selection.set(ids, source=self)

    def on_visible_rows_changed(self, *_):
        if self.scope() == "visible":
            self._mark_dirty()


def install(window) -> QDockWidget:
    """Add the Timing dock (View ▸ Timing analysis) and the calendar editor to ``window``.

    The dock, its tab, its menu entry and the editor's action are added now; the dock's
    content (the :class:`TimingView`) is built the first time the dock is shown or
    ``window.timing_view`` is read (:meth:`ui.app.MainWindow.add_lazy_attribute`), so a start
    with the dock behind the Details tab does not build a view nobody sees. Returns the dock.
    """
    # Deferred (start-up): the calendar editor costs about 61 ms, paid when the dock is added
    # rather than when the window module loads (median of 7 runs, 2026-12-07).
    from . import calendar_editor

    # a short screen scrolls the dock rather than squeezing the histogram and the tables
    scroll = QScrollArea(window)
    scroll.setObjectName("timing_scroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    dock = window.add_dock(scroll, "Timing analysis", Qt.DockWidgetArea.RightDockWidgetArea)
    dock.setMinimumWidth(420)
    detail = getattr(window, "detail_dock", None)
    if isinstance(detail, QDockWidget):
        window.tabifyDockWidget(detail, dock)
        detail.raise_()
    toggle = dock.toggleViewAction()
    toggle.setShortcut(QKeySequence("Ctrl+Shift+T"))
    view_menu = window.menus.get("View")
    if view_menu is not None and toggle not in view_menu.actions():
        view_menu.addAction(toggle)
    editor_action = calendar_editor.install(window)
    window.timing_dock = dock

    def build() -> TimingView:
        view = TimingView(window.selection, window.visible_event_ids, window)
        scroll.setWidget(view)
        scroll.setMinimumWidth(view.minimumSizeHint().width()
                               + scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent) + 2)
        view.highlight_changed.connect(window.timeline.set_calendar_highlight)
        dock.visibilityChanged.connect(view.set_active)
        view.set_active(dock.isVisible() and not dock.visibleRegion().isEmpty())

        def _on_window_reloaded():
            view.set_frames(window.frame, window.calendar)

        if hasattr(window, "reloaded"):
            window.reloaded.connect(_on_window_reloaded)
        table = getattr(window, "table", None)
        model = getattr(table, "table_model", None)
        if model is not None and hasattr(model, "rows_changed"):
            model.rows_changed.connect(view.on_visible_rows_changed)
        if getattr(window, "frame", None) is not None:
            _on_window_reloaded()
        view.calendar_edit_requested.connect(editor_action.trigger)
        view.failed.connect(lambda msg: window.statusBar().showMessage(f"Timing analysis: {msg}", 8000))
        guard = getattr(window, "_tab_guard", None)  # ui.habits: Tab skips the widgets of a covered dock
        if guard is not None:
            guard.update()
        return view

    def _on_dock_shown(visible: bool) -> None:
        if visible and "timing_view" not in vars(window):
            window.timing_view.set_active(True)  # reading it builds it; shown, so it computes

    window.add_lazy_attribute("timing_view", build)
    dock.visibilityChanged.connect(_on_dock_shown)
    return dock


def _preview() -> None:  # pragma: no cover - a manual look at the dock on the bundled data
    import sys
    import tempfile

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    path = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp() + "/preview.sqlite3"
    store = Store.open(path)
    view = TimingView(Selection())
    view.set_frames(store.events_frame(), store.calendar_frame())
    view.resize(480, 900)
    view.show()
    if len(sys.argv) > 2:  # render to a PNG and quit
        QTimer.singleShot(800, lambda: (view.grab().save(sys.argv[2]), app.quit()))
    app.exec()
    store.close()


if __name__ == "__main__":
    _preview()
