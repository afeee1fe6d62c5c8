"""File ▸ Import…: preview, map, check and merge a colleague's file, then import it as one batch.

The dialog is a view over :mod:`nkbrief.jobs.imports`. Reading and checking the file
(:func:`~nkbrief.jobs.imports.check_file`) and writing it (:func:`~nkbrief.jobs.imports.apply_file`)
run on the thread pool through
:class:`ui.workers.Worker`, each with its own store connection, with a progress bar and
Cancel. After a write the window's store is told (``store.notify("events")``) so every
view reloads. :mod:`ui.import_actions` opens it (File ▸ Import…, drag and drop) and adds the
other import actions.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QFileDialog, QFormLayout, QGridLayout,
                               QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QSpinBox, QSplitter,
                               QTableWidget, QTableWidgetItem, QTabWidget, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from nkbrief.jobs import imports
from nkbrief.jobs.imports import (RESOLUTION_LABELS, RESOLUTIONS, ExportError, ImportOptions, mapping,
                                  write_rejected_rows)
from nkbrief.store import Store

from .style import style_dialog
from .workers import Worker, start

FILE_FILTER = ("Data files (*.csv *.tsv *.txt *.xlsx *.xlsm *.json);;CSV or text (*.csv *.tsv *.txt);;"
               "Excel workbooks (*.xlsx *.xlsm);;JSON (*.json);;All files (*)")
REJECTED_BG = QColor("#FDE4E1")
REJECTED_FG = QColor("#9B1C14")
SKIPPED_FG = QColor("#7A808A")
CONFLICT_BG = QColor("#FFF4D6")
#: choices for a possible duplicate (the default, keep mine, adds nothing)
POSSIBLE_LABELS = {"keep_mine": "Same launch: keep mine", "take_theirs": "Same launch: take theirs",
                   "keep_both": "Another launch: add it"}
PARSED_FIELDS = ("date", "time_kst", "missile_class", "missile_name", "count", "distance_km", "apogee_km",
                 "launch_site", "outcome", "notes")


# ------------------------------------------------------------------ jobs (run on the thread pool)
# The jobs of nkbrief.jobs.imports (the ones `nkbrief import` runs), each on its own connection
# to the store at ``db_path``. A refusal is raised and arrives as the worker's ``failed`` signal.
def check_job(db_path: str, path: str, options: ImportOptions, progress=None):
    """Read and check a file, then plan the merge against the store: ``(parsed, plan)``, or the
    :class:`~nkbrief.jobs.imports.DateOrderNeeded` question (not a failure: the dialog asks the
    analyst day first or month first)."""
    try:
        return imports.check_file(db_path, path, options, progress=progress)
    except imports.DateOrderNeeded as e:
        return e


def apply_job(db_path: str, parsed, resolutions: dict[int, str], progress=None):
    return imports.apply_file(db_path, parsed, resolutions, progress=progress)


def undo_job(db_path: str, batch_id: int, progress=None):
    return imports.undo_import(db_path, batch_id, progress=progress)


def _shown(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, _dt.datetime):
        if v.time() == _dt.time(0, 0):
            return v.date().isoformat()
        return v.isoformat(sep=" ", timespec="minutes" if v.second == 0 else "seconds")
    if isinstance(v, _dt.time):
        return v.isoformat(timespec="minutes" if v.second == 0 else "seconds")
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return " ; ".join(map(str, v))
    s = str(v)
    return s if len(s) <= 200 else s[:199] + "…"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _item(text: str, tip: str | None = None) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    it.setFlags(it.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if tip:
        it.setToolTip(tip)
    return it


# ------------------------------------------------------------------ the merge review
class MergeReview(QWidget):
    """The review of a merge: a summary line, buttons that choose for every conflict, and a
    tree of the events that take a choice (conflicts, possible duplicates) with their
    differing fields side by side and a choice each.

    The import dialog's Merge tab, and the push dialog of an offline copy (ui/sync_dialog.py)
    with its own column titles, choice labels and row texts. ``choice_changed(index, resolution)``
    when the analyst picks one; ``all_chosen(resolution)`` from the buttons.
    """

    choice_changed = Signal(int, str)
    all_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, headers: tuple[str, str] = ("Mine (in the store)",
                 "Theirs (in the file)"), labels: dict[str, str] | None = None,
                 possible_labels: dict[str, str] | None = None):
        super().__init__(parent)
        self.labels = labels or RESOLUTION_LABELS
        self.possible_labels = possible_labels or POSSIBLE_LABELS
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.merge_label = QLabel("", self)
        self.merge_label.setWordWrap(True)
        row.addWidget(self.merge_label, 1)
        row.addWidget(QLabel("All conflicts:", self))
        self.all_buttons = {}
        for r in RESOLUTIONS:
            b = QPushButton(self.labels[r], self)
            b.clicked.connect(lambda _=False, r=r: self.all_chosen.emit(r))
            row.addWidget(b)
            self.all_buttons[r] = b
        lay.addLayout(row)
        self.conflict_tree = QTreeWidget(self)
        self.conflict_tree.setObjectName("conflict_tree")
        self.conflict_tree.setColumnCount(4)
        self.conflict_tree.setHeaderLabels(["Event / field", *headers, "Choice"])
        self.conflict_tree.setAlternatingRowColors(True)
        self.conflict_tree.setUniformRowHeights(True)
        hdr = self.conflict_tree.header()
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.conflict_tree.setColumnWidth(0, 300)
        self.conflict_tree.setColumnWidth(1, 280)
        self.conflict_tree.setColumnWidth(2, 280)
        lay.addWidget(self.conflict_tree)

    def fill(self, items, incoming, resolutions: dict[int, str], summary: str, *, all_enabled: bool,
             describe=None) -> None:
        """Show ``items`` (merge items; at most 500) of ``incoming``. ``resolutions``: each item's
        choice (an item without one shows an empty choice). ``describe(item)`` -> (row text,
        what differs, tooltip) overrides the import's wording."""
        tree = self.conflict_tree
        tree.clear()
        self.merge_label.setText(summary)
        for it in list(items)[:500]:
            inc = incoming[it.index]
            ev = inc.event
            what = f"{len(it.diffs)} field(s) differ"
            if it.status == "possible":
                what = f"possible duplicate of {it.existing_id}; " + what
            text = " · ".join(x for x in (ev["date"], ev["missile_class"], ev["launch_site"]) if x)
            tip = f"store event {it.existing_id} ({it.rule}); file row(s) {', '.join(map(str, inc.rows))}"
            if describe is not None:
                text, what, tip = describe(it)
            top = QTreeWidgetItem([text, what, "", ""])
            top.setToolTip(0, tip)
            top.setToolTip(1, f"{what} (matched: {it.rule})")
            for col in range(4):
                top.setBackground(col, QBrush(CONFLICT_BG))
            for f, (mine, theirs) in it.diffs.items():
                child = QTreeWidgetItem([mapping.FIELD_LABELS.get(f, f), _shown(mine), _shown(theirs), ""])
                child.setToolTip(1, _shown(mine))
                child.setToolTip(2, _shown(theirs))
                top.addChild(child)
            tree.addTopLevelItem(top)
            combo = QComboBox(tree)
            combo.setObjectName(f"choice_{it.index}")
            combo.setPlaceholderText("Choose…")
            for r in RESOLUTIONS:
                combo.addItem((self.possible_labels if it.status == "possible" else self.labels)[r], r)
            combo.setCurrentIndex(combo.findData(resolutions.get(it.index)))
            if it.take_error:
                combo.setToolTip(f"Taking theirs would make the event invalid: {it.take_error}")
            combo.activated.connect(lambda _i, idx=it.index, combo=combo:
                                    self.choice_changed.emit(idx, combo.currentData()))
            tree.setItemWidget(top, 3, combo)
            top.setExpanded(True)
        for b in self.all_buttons.values():
            b.setEnabled(all_enabled)

    def set_choice(self, index: int, resolution: str) -> None:
        combo = self.conflict_tree.findChild(QComboBox, f"choice_{index}")
        if combo is not None:
            combo.setCurrentIndex(combo.findData(resolution))


# ------------------------------------------------------------------ the dialog
class ImportDialog(QDialog):
    """Preview, map, check and import files into ``store`` (one file at a time)."""

    checked = Signal(object)  # the ParsedFile, after each (re-)check
    import_finished = Signal(object)  # the ImportResult
    import_undone = Signal(object)  # the UndoResult

    def __init__(self, store: Store, paths: list[str] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("import_dialog")
        self.setWindowTitle("Import data")
        style_dialog(self)
        self.store = store
        self.paths: list[str] = [str(p) for p in paths or []]
        self.parsed: imports.ParsedFile | None = None
        self.plan: imports.MergePlan | None = None
        self.result: imports.ImportResult | None = None
        self.error: str | None = None
        self._overrides: dict[str, str] = {}
        self._choices: dict[int, str] = {}
        self._worker: Worker | None = None
        self._generation = 0
        self._busy = ""
        self._build()
        self.resize(1180, 780)
        if self.paths:
            QTimer.singleShot(0, self.recheck)

    # -------------------------------------------------------------- layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.file_combo = QComboBox(self)
        self.file_combo.setObjectName("file_combo")
        self.file_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.file_combo.setMinimumContentsLength(40)
        for p in self.paths:
            self.file_combo.addItem(Path(p).name, p)
        self.file_combo.currentIndexChanged.connect(self._on_file_combo_changed)
        self.choose_button = QPushButton("Choose file…", self)
        self.choose_button.clicked.connect(self._on_choose_button_clicked)
        top.addWidget(QLabel("File:", self))
        top.addWidget(self.file_combo, 1)
        top.addWidget(self.choose_button)
        outer.addLayout(top)

        info = QGridLayout()
        info.setHorizontalSpacing(14)
        self.kind_label = QLabel("—", self)
        self.format_label = QLabel("—", self)
        self.encoding_label = QLabel("—", self)
        self.counts_label = QLabel("—", self)
        self.sheet_combo = QComboBox(self)
        self.sheet_combo.setObjectName("sheet_combo")
        self.sheet_combo.activated.connect(self._on_sheet_combo_activated)
        self.header_spin = QSpinBox(self)
        self.header_spin.setRange(0, 1_000_000)
        self.header_spin.setSpecialValueText("auto")
        self.header_spin.setToolTip("The row that holds the column names (auto: found by name)")
        self.header_spin.editingFinished.connect(self._on_header_spin_edited)
        self.rows_combo = QComboBox(self)
        for text, data in (("detect", None), ("one launch event", "events"),
                           ("one missile (grouped into events)", "missiles")):
            self.rows_combo.addItem(text, data)
        self.rows_combo.activated.connect(self._on_rows_combo_activated)
        self.date_order_combo = QComboBox(self)
        self.date_order_combo.setObjectName("date_order_combo")
        for text, data in (("settle from the file", None), ("day first (31/12/2026)", "dmy"),
                           ("month first (12/31/2026)", "mdy")):
            self.date_order_combo.addItem(text, data)
        self.date_order_combo.setToolTip("How to read slash dates such as 03/04/2026, when no row of the "
                                         "file settles it (a dotted date, 31.12.2026, is always day first)")
        self.date_order_combo.activated.connect(self._on_rows_combo_activated)
        pairs = [("Detected", self.kind_label), ("Format", self.format_label),
                 ("Encoding", self.encoding_label), ("Rows", self.counts_label)]
        for i, (name, w) in enumerate(pairs):
            info.addWidget(self._caption(name), i, 0)
            info.addWidget(w, i, 1)
        form = QFormLayout()
        form.addRow("Sheet", self.sheet_combo)
        form.addRow("Header row", self.header_spin)
        form.addRow("Each row is", self.rows_combo)
        form.addRow("Slash dates", self.date_order_combo)
        info.addLayout(form, 0, 2, 4, 1)
        info.setColumnStretch(1, 1)
        outer.addLayout(info)

        self.notes_label = QLabel("", self)
        self.notes_label.setObjectName("muted")
        self.notes_label.setWordWrap(True)
        outer.addWidget(self.notes_label)

        self.tabs = QTabWidget(self)
        outer.addWidget(self.tabs, 1)
        self._build_preview_tab()
        self._build_columns_tab()
        self._build_validation_tab()
        self._build_merge_tab()

        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.message)
        bottom = QHBoxLayout()
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.progress.setTextVisible(True)
        bottom.addWidget(self.progress, 1)
        bottom.addStretch(0)
        self.undo_button = QPushButton("Undo this import", self)
        self.undo_button.setObjectName("undo_button")
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self._on_undo_button_clicked)
        self.cancel_button = QPushButton("Close", self)
        self.cancel_button.setObjectName("cancel_button")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.import_button = QPushButton("Import", self)
        self.import_button.setObjectName("import_button")
        self.import_button.setDefault(True)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self._on_import_button_clicked)
        for b in (self.undo_button, self.cancel_button, self.import_button):
            bottom.addWidget(b)
        outer.addLayout(bottom)

    def _caption(self, text: str) -> QLabel:
        lab = QLabel(text, self)
        lab.setObjectName("muted")
        return lab

    def _table(self, name: str) -> QTableWidget:
        t = QTableWidget(self)
        t.setObjectName(name)
        t.setAlternatingRowColors(True)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.verticalHeader().setVisible(False)
        t.verticalHeader().setDefaultSectionSize(22)
        t.horizontalHeader().setHighlightSections(False)
        t.setWordWrap(False)
        return t

    def _build_preview_tab(self) -> None:
        w = QSplitter(Qt.Orientation.Vertical, self)
        box = QWidget(w)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addWidget(self._caption("The file's first rows (rejected rows are red; point at one for the reason)"))
        self.preview_table = self._table("preview_table")
        lay.addWidget(self.preview_table)
        box2 = QWidget(w)
        lay2 = QVBoxLayout(box2)
        lay2.setContentsMargins(0, 4, 0, 0)
        lay2.addWidget(self._caption("…read as launch events"))
        self.parsed_table = self._table("parsed_table")
        lay2.addWidget(self.parsed_table)
        w.addWidget(box)
        w.addWidget(box2)
        w.setSizes([300, 220])
        self.tabs.addTab(w, "Preview")

    def _build_columns_tab(self) -> None:
        w = QWidget(self)
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addWidget(self._caption("Columns are matched by name. Change a field to map a column; columns "
                                    "left unmapped are kept in the event notes."))
        self.mapping_table = self._table("mapping_table")
        self.mapping_table.setColumnCount(3)
        self.mapping_table.setHorizontalHeaderLabels(["Column", "First values", "Field"])
        self.mapping_table.verticalHeader().setDefaultSectionSize(28)
        lay.addWidget(self.mapping_table)
        self.tabs.addTab(w, "Columns")

    def _build_validation_tab(self) -> None:
        w = QWidget(self)
        lay = QVBoxLayout(w)
        lay.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.validation_label = QLabel("", w)
        row.addWidget(self.validation_label, 1)
        self.save_rejected_button = QPushButton("Save rejected rows…", w)
        self.save_rejected_button.setToolTip("Save the rejected rows with their problems as CSV, to send back")
        self.save_rejected_button.setEnabled(False)
        self.save_rejected_button.clicked.connect(self._on_save_rejected_button_clicked)
        row.addWidget(self.save_rejected_button)
        lay.addLayout(row)
        self.rejections_table = self._table("rejections_table")
        self.rejections_table.setColumnCount(4)
        self.rejections_table.setHorizontalHeaderLabels(["Row", "Column", "Value", "Problem"])
        lay.addWidget(self.rejections_table)
        self.tabs.addTab(w, "Validation")

    def _build_merge_tab(self) -> None:
        self.review = MergeReview(self)
        self.review.choice_changed.connect(self.set_resolution)
        self.review.all_chosen.connect(self.set_all_resolutions)
        self.merge_label, self.conflict_tree = self.review.merge_label, self.review.conflict_tree
        self.all_buttons = self.review.all_buttons
        self.tabs.addTab(self.review, "Merge")

    # -------------------------------------------------------------- options
    def options(self) -> ImportOptions:
        p = self.parsed
        sheet = self.sheet_combo.currentText() if self.sheet_combo.count() > 1 else None
        if p is not None and sheet == p.sheet and p.options.sheet is None:
            sheet = None
        header = self.header_spin.value() or None
        if p is not None and header == p.header_row and p.options.header_row is None:
            header = None
        return ImportOptions(sheet=sheet, header_row=header, mapping=dict(self._overrides),
                             rows=self.rows_combo.currentData(), date_order=self.date_order_combo.currentData())

    def current_path(self) -> str | None:
        return self.file_combo.currentData()

    def add_files(self, paths: list[str]) -> None:
        for p in paths:
            self.paths.append(str(p))
            self.file_combo.addItem(Path(p).name, str(p))
        if self.file_combo.currentIndex() < 0:
            self.file_combo.setCurrentIndex(0)

    # -------------------------------------------------------------- checking
    def recheck(self) -> None:
        """Read and check the current file again with the current options (off the GUI thread)."""
        self._undone = False
        path = self.current_path()
        if not path:
            return
        self._cancel_worker()
        self._generation += 1
        gen = self._generation
        self.result = None
        self.undo_button.setEnabled(False)
        self.import_button.setEnabled(False)
        worker = Worker(check_job, self.store.target, path, self.options())
        worker.signals.progressed.connect(lambda d, t, s: self._on_worker_progressed(gen, d, t, s))
        worker.signals.finished.connect(lambda res: self._on_check_finished(gen, res))
        worker.signals.failed.connect(lambda msg: self._on_check_failed(gen, msg))
        worker.signals.cancelled.connect(lambda: self._on_worker_cancelled(gen))
        self._start(worker, f"Checking {Path(path).name}…")

    def _start(self, worker: Worker, text: str) -> None:
        self._worker = worker
        self._busy = text
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self.message.setText(text)
        self.message.setObjectName("")
        self.cancel_button.setText("Cancel")
        start(worker, QThreadPool.globalInstance())

    def _cancel_worker(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    def _done(self) -> None:
        self._worker = None
        self._busy = ""
        self.progress.setVisible(False)
        self.cancel_button.setText("Close")

    def _on_worker_progressed(self, gen: int, done: int, total: int, text: str) -> None:
        if gen != self._generation:
            return
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.progress.setFormat(f"{text} %p%")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(text)

    def _on_worker_failed(self, gen: int, msg: str) -> None:
        if gen != self._generation:
            return
        self._done()
        self._show_problem(msg)

    def _on_worker_cancelled(self, gen: int) -> None:
        if gen != self._generation:
            return
        self._done()
        self.message.setText("Cancelled; nothing was imported.")
        self.import_button.setEnabled(self.parsed is not None and bool(self.parsed.incoming)
                                      and self.result is None)

    def _show_problem(self, msg: str) -> None:
        self.error = msg
        self.message.setObjectName("problem")
        self.message.setStyleSheet("color: #B3261E;")
        self.message.setText(msg)

    def _on_check_failed(self, gen: int, msg: str) -> None:
        if gen != self._generation:
            return
        self._done()
        self.message.setStyleSheet("")
        self.parsed, self.plan = None, None
        self._clear_views()
        self._show_problem(msg)

    def _on_check_finished(self, gen: int, res) -> None:
        if gen != self._generation:
            return
        self._done()
        self.message.setStyleSheet("")
        if isinstance(res, imports.DateOrderNeeded):
            self.parsed, self.plan = None, None
            self._clear_views()
            dm, md = res.readings
            self._show_problem(f"The date '{res.example}' (row {res.row}) can be read day first ({dm}) or month "
                               f"first ({md}), and no row of the file settles which. Choose under “Slash dates”.")
            self.date_order_combo.setStyleSheet("border: 1px solid #B3261E;")
            self.date_order_combo.setFocus()
            return
        self.date_order_combo.setStyleSheet("")
        self.error = None
        self.parsed, self.plan = res
        self._choices = {k: v for k, v in self._choices.items()
                         if k < len(self.parsed.incoming)}
        self._fill_views()
        self.checked.emit(self.parsed)

    # -------------------------------------------------------------- views
    def _clear_views(self) -> None:
        for t in (self.preview_table, self.parsed_table, self.mapping_table, self.rejections_table):
            t.setRowCount(0)
        self.conflict_tree.clear()
        for lab in (self.kind_label, self.format_label, self.encoding_label, self.counts_label):
            lab.setText("—")
        self.notes_label.setText("")
        self.validation_label.setText("")
        self.merge_label.setText("")
        self.save_rejected_button.setEnabled(False)
        self.import_button.setEnabled(False)

    def _fill_views(self) -> None:
        p = self.parsed
        assert p is not None
        self.kind_label.setText(p.kind_label)
        fmt = p.format_label + (f", sheet '{p.sheet}'" if p.sheet else "")
        fmt += f", header on row {p.header_row}" if p.header_row else ""
        self.format_label.setText(fmt)
        self.encoding_label.setText(p.encoding_label or "—")
        self.counts_label.setText(
            f"{p.rows_total:,} rows: {p.accepted_rows:,} accepted, {p.rejected_rows:,} rejected, "
            f"{len(p.skipped):,} skipped → {len(p.incoming):,} events")
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        self.sheet_combo.addItems(p.sheets or ["—"])
        if p.sheet:
            self.sheet_combo.setCurrentText(p.sheet)
        self.sheet_combo.setEnabled(len(p.sheets) > 1)
        self.sheet_combo.blockSignals(False)
        self.header_spin.blockSignals(True)
        self.header_spin.setValue(p.header_row or 0)
        self.header_spin.setEnabled(bool(p.header))
        self.header_spin.blockSignals(False)
        notes = list(dict.fromkeys(p.notes))
        self.notes_label.setText(" · ".join(notes[:6]) + (" …" if len(notes) > 6 else ""))
        self._fill_preview()
        self._fill_parsed()
        self._fill_mapping()
        self._fill_rejections()
        self._fill_merge()
        self._update_import_button()
        c = self.plan.counts() if self.plan else {"new": 0, "identical": 0, "conflicting": 0, "possible": 0}
        self.tabs.setTabText(2, f"Validation ({p.rejected_rows:,} rejected)")
        merge = _plural(c["conflicting"], "conflict")
        if c["possible"]:
            merge += f", {_plural(c['possible'], 'possible duplicate')}"
        self.tabs.setTabText(3, f"Merge ({merge})")
        if p.wholly_rejected:
            self._show_problem(f"{p.name}: no row could be imported ({p.rejected_rows} rejected, "
                               f"{len(p.skipped)} skipped). Fix the mapping and check again, or send the "
                               "rejected rows back.")
        elif p.is_lookup:
            self.message.setText(f"{p.name} is a lookup file; it has no launches to import.")
        else:
            self.message.setText(self._plan_text())

    def _plan_text(self) -> str:
        c = self.plan.counts()
        res = self.resolutions()
        chosen = {r: sum(1 for it in self.plan.conflicts() if res.get(it.index) == r) for r in RESOLUTIONS}
        text = f"Ready: {c['new']:,} new, {c['identical']:,} identical, {c['conflicting']:,} conflicting"
        if c["conflicting"]:
            text += (f" (keep mine {chosen['keep_mine']}, take theirs {chosen['take_theirs']}, "
                     f"keep both {chosen['keep_both']})")
        if c["possible"]:
            added = sum(1 for it in self.plan.possible() if res.get(it.index) == "keep_both")
            text += f", {c['possible']:,} possible duplicates ({added:,} to be added)"
        text += "."
        n = self.parsed.not_stated_rows if self.parsed is not None else 0
        if n:
            text += f" {n:,} rows arrive with no confirmation: they are stored as “not stated”."
        return text

    def _fill_preview(self) -> None:
        p = self.parsed
        t = self.preview_table
        header = p.header or ["Record"]
        t.clear()
        t.setColumnCount(2 + len(header))
        t.setHorizontalHeaderLabels(["Row", "Status", *header])
        t.setRowCount(len(p.preview))
        for r, pr in enumerate(p.preview):
            status = {"accepted": "ok", "rejected": "rejected", "skipped": "skipped"}[pr.status]
            items = [_item(str(pr.row), pr.message or None), _item(status, pr.message or None)]
            items += [_item(_shown(v), pr.message or None) for v in pr.cells[:len(header)]]
            for c, it in enumerate(items):
                if pr.status == "rejected":
                    it.setBackground(QBrush(REJECTED_BG))
                    it.setForeground(QBrush(REJECTED_FG))
                elif pr.status == "skipped":
                    it.setForeground(QBrush(SKIPPED_FG))
                t.setItem(r, c, it)
        self._size_columns(t, 220)

    def _fill_parsed(self) -> None:
        p = self.parsed
        t = self.parsed_table
        t.clear()
        t.setColumnCount(2 + len(PARSED_FIELDS))
        t.setHorizontalHeaderLabels(["Rows", "Id", *[mapping.FIELD_LABELS.get(f, f) for f in PARSED_FIELDS]])
        shown = p.incoming[:200]
        t.setRowCount(len(shown))
        for r, inc in enumerate(shown):
            ev = inc.event
            rows = ", ".join(map(str, inc.rows[:4])) + ("…" if len(inc.rows) > 4 else "")
            t.setItem(r, 0, _item(rows))
            t.setItem(r, 1, _item(ev["id"]))
            for c, f in enumerate(PARSED_FIELDS, start=2):
                v = ev.get(f)
                if f in ("distance_km", "apogee_km") and v is not None and ev.get(f + "_max") is not None:
                    text = f"{v:g}–{ev[f + '_max']:g}"
                else:
                    text = _shown(v)
                t.setItem(r, c, _item(text.replace("\n", " · "), str(v) if f == "notes" and v else None))
        self._size_columns(t, 260)

    def _fill_mapping(self) -> None:
        p = self.parsed
        t = self.mapping_table
        t.setRowCount(len(p.columns))
        samples: dict[int, list[str]] = {}
        for pr in p.preview[:30]:
            for i, v in enumerate(pr.cells):
                s = _shown(v)
                if s and len(samples.setdefault(i, [])) < 3 and s not in samples[i]:
                    samples[i].append(s[:40])
        for r, col in enumerate(p.columns):
            t.setItem(r, 0, _item(col.header))
            t.setItem(r, 1, _item(" | ".join(samples.get(col.index, []))))
            combo = QComboBox(t)
            combo.setObjectName(f"map_{r}")
            combo.addItem("(kept in notes)", mapping.UNMAPPED)
            combo.addItem("(ignored)", mapping.IGNORE)
            for f in mapping.TARGETS:
                combo.addItem(f"{mapping.FIELD_LABELS.get(f, f)}  ·  {f}", f)
            combo.setCurrentIndex(max(combo.findData(col.field), 0))
            combo.setEnabled(not p.exact)  # an nkbrief export maps itself
            combo.activated.connect(lambda _i, col=col, combo=combo: self._on_map_combo_activated(col, combo))
            t.setCellWidget(r, 2, combo)
        t.setColumnWidth(0, 260)
        t.setColumnWidth(1, 420)
        t.horizontalHeader().setStretchLastSection(True)

    def _fill_rejections(self) -> None:
        p = self.parsed
        t = self.rejections_table
        rows = [(x.row, x.column, _shown(x.value), x.reason) for x in p.rejections]
        rows += [(n, "", "", f"skipped: {reason}") for n, reason in p.skipped]
        rows.sort(key=lambda r: r[0])
        t.setRowCount(len(rows))
        for r, (n, col, val, why) in enumerate(rows):
            items = [_item(str(n)), _item(col), _item(val, val if len(val) > 40 else None), _item(why)]
            for c, it in enumerate(items):
                if not why.startswith("skipped"):
                    it.setForeground(QBrush(REJECTED_FG))
                t.setItem(r, c, it)
        self._size_columns(t, 360)
        t.horizontalHeader().setStretchLastSection(True)
        self.validation_label.setText(
            f"{p.rejected_rows:,} rows rejected, {len(p.skipped):,} skipped, {p.accepted_rows:,} accepted "
            f"of {p.rows_total:,}." + (" Fix the mapping and check again, or save the rejected rows for "
                                        "the colleague." if p.rejected_rows else ""))
        self.save_rejected_button.setEnabled(bool(p.rejected_rows))

    def _fill_merge(self) -> None:
        if self.plan is None:
            self.conflict_tree.clear()
            return
        c = self.plan.counts()
        self.review.fill(self.plan.choices(), self.parsed.incoming, self.resolutions(),
                         f"{c['new']:,} new · {c['identical']:,} identical · "
                         f"{c['conflicting']:,} conflicting · {c['possible']:,} possible duplicates "
                         "(matched by id, or by Korean date, system or class, and site or area)",
                         all_enabled=bool(c["conflicting"]))

    def _size_columns(self, t: QTableWidget, cap: int) -> None:
        t.resizeColumnsToContents()
        for c in range(t.columnCount()):
            if t.columnWidth(c) > cap:
                t.setColumnWidth(c, cap)

    def _update_import_button(self) -> None:
        p = self.parsed
        ok = p is not None and bool(p.incoming) and self.result is None and not getattr(self, "_undone", False)
        if ok and self.plan is not None:
            c = self.plan.counts()
            res = list(self.resolutions().values())
            new, updated = c["new"] + res.count("keep_both"), res.count("take_theirs")
            if new == 0 and updated == 0:
                # nothing would change: say so, and never record an empty batch
                ok = False
                self.import_button.setText("Nothing to import")
                self.import_button.setToolTip(f"Every event in the file is already in the store "
                                              f"({c['identical']:,} identical, {c['conflicting']:,} kept as "
                                              "they are); importing would change nothing.")
            else:
                parts = [f"{new:,} new"] + ([f"{updated:,} updated"] if updated else [])
                self.import_button.setText(f"Import ({', '.join(parts)})")
                self.import_button.setToolTip("")
        else:
            self.import_button.setText("Import")
        self.import_button.setEnabled(ok and not self._busy)

    # -------------------------------------------------------------- choices
    def resolutions(self) -> dict[int, str]:
        return {it.index: self._choices.get(it.index, "keep_mine") for it in self.plan.choices()} \
            if self.plan else {}

    def set_resolution(self, index: int, resolution: str) -> None:
        self._choices[index] = resolution
        self.review.set_choice(index, resolution)
        if self.parsed is not None and self.result is None:
            self.message.setText(self._plan_text())
            self._update_import_button()

    def set_date_order(self, order: str | None) -> None:
        """Read slash dates day first ("dmy"), month first ("mdy") or as the file settles (None)."""
        self.date_order_combo.setCurrentIndex(self.date_order_combo.findData(order))
        self.recheck()

    def set_all_resolutions(self, resolution: str) -> None:
        for it in (self.plan.conflicts() if self.plan else []):
            self.set_resolution(it.index, resolution)

    def set_mapping(self, header: str, field: str) -> None:
        """Map a column to a field (mapping.UNMAPPED keeps it in notes) and check again."""
        self._overrides[header] = field
        self.recheck()

    def _on_map_combo_activated(self, col, combo: QComboBox) -> None:
        self.set_mapping(col.header, combo.currentData())

    def _on_sheet_combo_activated(self, _i: int) -> None:
        self._overrides.clear()
        self.recheck()

    def _on_header_spin_edited(self) -> None:
        if self.parsed is None or self.header_spin.value() != (self.parsed.header_row or 0):
            self.recheck()

    def _on_rows_combo_activated(self, _i: int) -> None:
        self.recheck()

    def _on_file_combo_changed(self, _i: int) -> None:
        self._overrides.clear()
        self._choices.clear()
        self.parsed = self.plan = self.result = None
        self.sheet_combo.clear()
        self.header_spin.setValue(0)
        self.rows_combo.setCurrentIndex(0)
        self.date_order_combo.setCurrentIndex(0)
        self.recheck()

    def _on_choose_button_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import data files", "", FILE_FILTER)
        if paths:
            first = self.file_combo.count()
            self.add_files(paths)
            self.file_combo.setCurrentIndex(first)

    # -------------------------------------------------------------- import / undo
    def _on_import_button_clicked(self) -> None:
        self.start_import()

    def start_import(self) -> None:
        if self.parsed is None or not self.parsed.incoming or self._busy:
            return
        self._generation += 1
        gen = self._generation
        self.import_button.setEnabled(False)
        worker = Worker(apply_job, self.store.target, self.parsed, self.resolutions())
        worker.signals.progressed.connect(lambda d, t, s: self._on_worker_progressed(gen, d, t, s))
        worker.signals.finished.connect(lambda res: self._on_import_finished(gen, res))
        worker.signals.failed.connect(lambda msg: self._on_import_failed(gen, msg))
        worker.signals.cancelled.connect(lambda: self._on_worker_cancelled(gen))
        self._start(worker, f"Importing {self.parsed.name}…")

    def _on_import_failed(self, gen: int, msg: str) -> None:
        if gen != self._generation:
            return
        self._done()
        self._show_problem(msg)
        self._update_import_button()

    def _on_import_finished(self, gen: int, res) -> None:
        if gen != self._generation:
            return
        self._done()
        self.result = res
        self.store.notify("events")
        self.message.setStyleSheet("")
        self.message.setText(
            f"Imported {self.parsed.name} as batch {res.batch_id}: {res.added:,} added, "
            f"{res.took_theirs:,} updated, {res.identical:,} identical, {res.kept_mine:,} conflicts or possible "
            f"duplicates kept as they were, {res.kept_both:,} kept both. Undo it here or with Edit ▸ Undo import.")
        self.undo_button.setEnabled(res.batch_id is not None)
        self._update_import_button()
        self.import_finished.emit(res)

    def _on_undo_button_clicked(self) -> None:
        self.start_undo()

    def start_undo(self) -> None:
        if self.result is None or self.result.batch_id is None or self._busy:
            return
        hook = getattr(self, "undo_hook", None)  # the window's Ctrl+Z stack, when it holds this import
        if callable(hook) and hook(self.result.batch_id):
            self.undo_button.setEnabled(False)
            self.message.setText(f"Undid import {self.result.batch_id} (Edit ▸ Redo imports it again).")
            self.result = None
            self._undone = True
            self._update_import_button()
            return
        self._generation += 1
        gen = self._generation
        self.undo_button.setEnabled(False)
        worker = Worker(undo_job, self.store.target, self.result.batch_id)
        worker.signals.progressed.connect(lambda d, t, s: self._on_worker_progressed(gen, d, t, s))
        worker.signals.finished.connect(lambda res: self._on_undo_finished(gen, res))
        worker.signals.failed.connect(lambda msg: self._on_undo_failed(gen, msg))
        self._start(worker, "Undoing the import…")

    def _on_undo_failed(self, gen: int, msg: str) -> None:
        if gen != self._generation:
            return
        self._done()
        self._show_problem(msg)
        self.undo_button.setEnabled(True)

    def _on_undo_finished(self, gen: int, res) -> None:
        if gen != self._generation:
            return
        self._done()
        self.store.notify("events")
        self.message.setText(f"Undid import {res.batch_id}: removed {res.removed:,} events, restored "
                             f"{res.restored:,}.")
        self.result = None
        self._undone = True  # not offered again: Close, or choose the file again to re-import
        self._update_import_button()
        self.import_undone.emit(res)

    # -------------------------------------------------------------- rejected rows
    def _on_save_rejected_button_clicked(self) -> None:
        if self.parsed is None:
            return
        stem = Path(self.parsed.name).stem
        path, _ = QFileDialog.getSaveFileName(self, "Save rejected rows", f"{stem}-rejected.csv", "CSV (*.csv)")
        if path:
            self.save_rejected(path)

    def save_rejected(self, path: str) -> int:
        try:
            n = write_rejected_rows(self.parsed, path)
        except ExportError as e:
            self._show_problem(str(e))
            return 0
        self.message.setText(f"Saved {n:,} rejected rows with their problems to {path}.")
        return n

    # -------------------------------------------------------------- closing
    def _on_cancel_button_clicked(self) -> None:
        if self._busy:
            self._cancel_worker()
            self._generation += 1
            self._done()
            self.message.setText("Cancelled; nothing was imported.")
            self._update_import_button()
            return
        self.accept() if self.result is not None else self.reject()

    def closeEvent(self, event):  # noqa: N802 (Qt override)
        self._cancel_worker()
        super().closeEvent(event)

    def reject(self) -> None:  # Esc while busy cancels the work first
        self._cancel_worker()
        super().reject()


if __name__ == "__main__":  # pragma: no cover - a look at the dialog on the bundled data
    import sys
    import tempfile

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    args = sys.argv[1:]
    db = tempfile.mkdtemp() + "/preview.sqlite3"
    st = Store.open(db)  # seeded from the bundled dataset
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    files = [a for a in args if not a.endswith(".png")] or (
        [str(shared / "north_korea_missile_test_database.csv")] if shared.exists() else [])
    dlg = ImportDialog(st, files)
    dlg.show()
    shot = next((a for a in args if a.endswith(".png")), None)
    if shot:  # import_dialog.py [FILE...] SHOT.png: render after the check, then quit
        tab = {"columns": 1, "validation": 2, "merge": 3}.get(Path(shot).stem.rsplit("-", 1)[-1], 0)
        dlg.checked.connect(lambda *_: (dlg.tabs.setCurrentIndex(tab),
                                        QTimer.singleShot(300, lambda: (dlg.grab().save(shot), app.quit()))))
    app.exec()
    st.close()
