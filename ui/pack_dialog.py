"""The briefing-pack dialog: choose events, fill in the cover, pick sections, build off the GUI thread.

Opened from File ▸ Build briefing pack…, the toolbar, or the table's right-click menu. The
build itself is :func:`nkbrief.jobs.pack.build_pack_job`, run by :class:`ui.workers.Worker` on
the thread pool with its own store connection; the dialog shows progress and can cancel
(a cancelled or failed build leaves nothing at the destination).
"""

from __future__ import annotations

import datetime as _dt
import os
import secrets
from pathlib import Path

from PySide6.QtCore import QDate, QSettings, Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QDesktopServices, QIcon, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QDialog,
                               QDialogButtonBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
                               QPlainTextEdit, QProgressBar, QPushButton, QSpinBox, QSplitter,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from nkbrief import privacy
from nkbrief.common import UserError
from nkbrief.model import classification
from nkbrief.analysis.context import CATEGORY_LABELS
from nkbrief.analysis.timing import BALLISTIC_CLASSES, DEFAULT_NULL, NULL_NAMES, classes_phrase
from nkbrief.filenames import sanitise_filename, suggested_name
from nkbrief.analysis.filtering import parse_date_bound
from nkbrief.model.palette import class_color
from nkbrief.resources import resource_path
from nkbrief.model.schema import CALENDAR_CATEGORIES, MISSILE_CLASSES
from nkbrief.store import Store, current_user, frame_records
from nkbrief.jobs.pack import DEFAULT_TITLE, SECTIONS, PackOptions, build_pack_job, shown_date

from .workers import Worker, start

try:  # the window's shared look and settings, when present
    from .style import icon as _style_icon
    from .style import settings as _style_settings
    from .style import style_dialog as _style_dialog
except ImportError:  # pragma: no cover - the dialog also runs on its own
    _style_icon = _style_settings = _style_dialog = None

ID_ROLE = Qt.ItemDataRole.UserRole
SETTINGS_PREFIX = "pack/"


def settings() -> QSettings:
    if _style_settings is not None:
        return _style_settings()
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "nkbrief", "nkbrief")


def pack_icon() -> QIcon:
    if _style_icon is not None:
        return _style_icon("pack")
    p = resource_path("icons/pack.svg")
    return QIcon(str(p)) if p.exists() else QIcon()


def open_file(path: str) -> bool:
    """Open a built pack in the desktop's spreadsheet program (tests replace this)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


#: Simulation counts offered (the Timing dock offers the same).
SIMULATION_CHOICES = (1_000, 10_000, 100_000)
DEFAULT_TIMING_WINDOW = 30
DEFAULT_SIMULATIONS = 10_000


def timing_settings_of(window) -> dict | None:
    """The Timing dock's controls as pack timing options (None when the window has no dock).

    ``{"categories": [...], "window": N, "seed": N, "simulations": N}`` as the analyst sees
    them in ``window.timing_view`` (:class:`ui.timing_view.TimingView`).
    """
    view = getattr(window, "timing_view", None)
    if view is None:
        return None
    try:
        out = {"categories": list(view.categories()), "window": int(view.window_spin.value()),
               "seed": int(view.seed_spin.value())}
        sims = getattr(view, "sims_combo", None)
        if sims is not None and sims.currentData():
            out["simulations"] = int(sims.currentData())
        if callable(getattr(view, "analysis_options", None)):  # null model, classes, failed, when
            out.update(view.analysis_options())
    except (AttributeError, RuntimeError, TypeError, ValueError):  # another dock, or already deleted
        return None
    return out


def build_job(db_path: str, ids: list[str], options: PackOptions, timing: dict | int | None = None, *,
              progress=None) -> str:
    """The worker's job (:func:`nkbrief.jobs.pack.build_pack_job`, as ``nkbrief pack`` runs it) on
    its own store connection: the optional timing analysis, then the pack.

    ``timing``: None (no analysis), or ``{"categories", "window", "seed", "simulations"}``
    (any may be missing: all categories, 30 days, a fresh seed, 10,000); a bare number is
    the window.
    """
    return str(build_pack_job(db_path, ids, options, timing, progress=progress))


class PackDialog(QDialog):
    """Build a briefing pack from chosen events.

    ``ids``: the events to start with (checked); ``origin``: how they were chosen, in words
    (goes on the cover with any filters added here); ``timing``: the timing options to start
    from (see :func:`timing_settings_of`; the window passes its Timing dock's), else all
    categories, 30 days, a fresh seed.
    """

    pack_built = Signal(str)  # the path written
    build_failed = Signal(str)  # the message shown
    build_cancelled = Signal()

    def __init__(self, store: Store, ids: list[str] | None = None, *, origin: str = "",
                 timing: dict | None = None, parent=None):
        super().__init__(parent)
        if _style_dialog is not None:
            _style_dialog(self)
        self.setObjectName("pack_dialog")
        self.setWindowTitle("Build briefing pack")
        self.setWindowIcon(pack_icon())
        self.store = store
        self.origin = origin
        self.added_filters: list[str] = []
        self._worker: Worker | None = None
        self._close_when_done = False
        self._path_edited = False
        self.last_path: str | None = None
        self._events = {r["id"]: r for r in frame_records(store.events_frame())}
        self._build_ui()
        self._restore()
        self.set_timing_options(timing)
        self.set_events(ids or [])
        self._update_path()
        self._update_state()
        self.resize(1080, 720)

    # ------------------------------------------------------------------ layout
    def _build_ui(self) -> None:
        lay = QVBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        lay.addWidget(split, 1)

        # left: the events
        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 6, 0)
        self.events_label = QLabel(left)
        self.events_label.setObjectName("events_label")
        ll.addWidget(self.events_label)
        self.event_list = QTreeWidget(left)
        self.event_list.setObjectName("event_list")
        self.event_list.setHeaderLabels(["Date (KST)", "Class", "Missile", "Event ID"])
        self.event_list.setRootIsDecorated(False)
        self.event_list.setUniformRowHeights(True)
        self.event_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.event_list.setSortingEnabled(True)
        self.event_list.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        hh = self.event_list.header()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for i, w in enumerate((110, 64, 150)):
            hh.resizeSection(i, w)
        hh.setStretchLastSection(True)
        self.event_list.itemChanged.connect(self._on_event_list_item_changed)
        ll.addWidget(self.event_list, 1)
        row = QHBoxLayout()
        self.check_all_button = QPushButton("Check all", left)
        self.check_all_button.clicked.connect(lambda: self._set_all_checked(True))
        self.uncheck_all_button = QPushButton("Uncheck all", left)
        self.uncheck_all_button.clicked.connect(lambda: self._set_all_checked(False))
        row.addWidget(self.check_all_button)
        row.addWidget(self.uncheck_all_button)
        row.addStretch(1)
        ll.addLayout(row)

        add = QGroupBox("Add events by filter", left)
        al = QHBoxLayout(add)
        self.filter_from = QLineEdit(add)
        self.filter_from.setPlaceholderText("from YYYY-MM-DD")
        self.filter_to = QLineEdit(add)
        self.filter_to.setPlaceholderText("to YYYY-MM-DD")
        self.filter_class = QComboBox(add)
        self.filter_class.addItem("any class", None)
        for c in MISSILE_CLASSES:
            self.filter_class.addItem(c, c)
        self.add_button = QPushButton("Add matching", add)
        self.add_button.clicked.connect(self.add_by_filter)
        for w in (self.filter_from, self.filter_to, self.filter_class, self.add_button):
            al.addWidget(w)
        ll.addWidget(add)
        self.filter_message = QLabel(left)
        self.filter_message.setObjectName("muted")
        self.filter_message.setWordWrap(True)
        ll.addWidget(self.filter_message)
        split.addWidget(left)

        # right: the cover, sections, output
        right = QWidget(self)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 0, 0, 0)
        form = QFormLayout()
        self.title_edit = QLineEdit(DEFAULT_TITLE, right)
        self.title_edit.textEdited.connect(lambda *_: self._update_path())
        self.subtitle_edit = QLineEdit(right)
        self.author_edit = QLineEdit(right)
        self.author_edit.setPlaceholderText(current_user())  # what a blank author becomes
        self.organisation_edit = QLineEdit(right)
        self.date_edit = QDateEdit(QDate.currentDate(), right)
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.dateChanged.connect(lambda *_: self._update_path())
        self.classification_combo = QComboBox(right)
        self.classification_combo.setObjectName("classification_combo")
        self.classification_combo.setEditable(True)
        self.classification_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for i, p in enumerate(classification.PRESETS):
            self.classification_combo.addItem(p)
            self.classification_combo.setItemData(i, QBrush(QColor(classification.marking_colour(p))),
                                                  Qt.ItemDataRole.ForegroundRole)
        self.classification_combo.lineEdit().setPlaceholderText("Choose a marking")
        self.classification_combo.currentTextChanged.connect(self._on_classification_changed)
        self.banner = QLabel(right)
        self.banner.setObjectName("classification_banner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.private_note = QLabel(right)
        self.private_note.setObjectName("muted")
        self.private_note.setWordWrap(True)
        self.private_note.setAccessibleName("pack file permissions")
        self.judgments_edit = QPlainTextEdit(right)
        self.judgments_edit.setPlaceholderText("One key judgment per line")
        self.judgments_edit.setTabChangesFocus(True)
        form.addRow("Title", self.title_edit)
        form.addRow("Subtitle", self.subtitle_edit)
        form.addRow("Prepared by", self.author_edit)
        form.addRow("Organisation", self.organisation_edit)
        form.addRow("Date", self.date_edit)
        form.addRow("Classification", self.classification_combo)
        form.addRow("", self.banner)
        form.addRow("", self.private_note)
        form.addRow("Key judgments", self.judgments_edit)
        rl.addLayout(form)

        sec = QGroupBox("Sections", right)
        sl = QGridLayout(sec)
        self.section_checks: dict[str, QCheckBox] = {}
        for i, (key, title) in enumerate(SECTIONS.items()):
            cb = QCheckBox(title.replace("&", "&&"), sec)  # "&" would be a mnemonic
            cb.setChecked(True)
            cb.toggled.connect(lambda *_: self._update_state())
            self.section_checks[key] = cb
            sl.addWidget(cb, i // 2, i % 2)
        rl.addWidget(sec)

        tim = QGroupBox("Timing analysis", right)
        tim.setObjectName("timing_group")
        tl = QVBoxLayout(tim)
        tl.setSpacing(4)
        self.timing_check = QCheckBox("Add the timing analysis of the pack's events to Context && timing",
                                      tim)
        self.timing_check.toggled.connect(self._on_timing_check_toggled)
        tl.addWidget(self.timing_check)
        self.timing_box = QWidget(tim)
        ol = QVBoxLayout(self.timing_box)
        ol.setContentsMargins(18, 0, 0, 0)
        ol.setSpacing(2)
        ol.addWidget(QLabel("Launches before entries of:", self.timing_box))
        cats = QGridLayout()
        cats.setHorizontalSpacing(10)
        cats.setVerticalSpacing(0)
        self.timing_category_checks: dict[str, QCheckBox] = {}
        for i, cat in enumerate(CALENDAR_CATEGORIES):
            cb = QCheckBox(CATEGORY_LABELS.get(cat, cat).replace("&", "&&"), self.timing_box)
            cb.setObjectName(f"timing_category_{cat}")
            cb.toggled.connect(lambda *_: self._update_state())
            self.timing_category_checks[cat] = cb
            cats.addWidget(cb, i // 4, i % 4)
        ol.addLayout(cats)
        row = QHBoxLayout()
        row.addWidget(QLabel("Window", self.timing_box))
        self.timing_window = QSpinBox(self.timing_box)
        self.timing_window.setRange(1, 3650)
        self.timing_window.setSuffix(" days before")
        self.timing_window.setValue(DEFAULT_TIMING_WINDOW)
        row.addWidget(self.timing_window)
        row.addSpacing(8)
        row.addWidget(QLabel("Seed", self.timing_box))
        self.timing_seed = QSpinBox(self.timing_box)
        self.timing_seed.setRange(0, 2**31 - 1)
        self.timing_seed.setToolTip("The same seed, events and settings always give the same p-value")
        row.addWidget(self.timing_seed)
        row.addSpacing(8)
        row.addWidget(QLabel("Simulations", self.timing_box))
        self.timing_simulations = QComboBox(self.timing_box)
        for n in SIMULATION_CHOICES:
            self.timing_simulations.addItem(f"{n:,}", n)
        row.addWidget(self.timing_simulations)
        row.addStretch(1)
        ol.addLayout(row)
        self.timing_source_label = QLabel(self.timing_box)
        self.timing_source_label.setObjectName("muted")
        self.timing_source_label.setWordWrap(True)
        ol.addWidget(self.timing_source_label)
        tl.addWidget(self.timing_box)
        self.timing_box.setEnabled(False)
        rl.addWidget(tim)

        out = QHBoxLayout()
        self.path_edit = QLineEdit(right)
        self.path_edit.setObjectName("path_edit")
        self.path_edit.textEdited.connect(self._on_path_edit_text_edited)
        self.browse_button = QPushButton("Browse…", right)
        self.browse_button.clicked.connect(self.browse)
        out.addWidget(QLabel("Save as", right))
        out.addWidget(self.path_edit, 1)
        out.addWidget(self.browse_button)
        rl.addLayout(out)
        self.open_after_check = QCheckBox("Open the pack when it is built", right)
        rl.addWidget(self.open_after_check)
        rl.addStretch(1)
        split.addWidget(right)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 4)

        # bottom: progress and buttons
        bottom = QHBoxLayout()
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setVisible(False)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("status_label")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.progress_bar)
        self.buttons = QDialogButtonBox(self)
        self.build_button = self.buttons.addButton("Build pack", QDialogButtonBox.ButtonRole.AcceptRole)
        self.build_button.setObjectName("build_button")
        self.build_button.setDefault(True)
        self.cancel_button = self.buttons.addButton("Cancel build", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.setEnabled(False)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.build_button.clicked.connect(self.build)
        self.cancel_button.clicked.connect(self.cancel_build)
        self.close_button.clicked.connect(self.reject)
        bottom.addWidget(self.buttons)
        lay.addLayout(bottom)

    # ------------------------------------------------------------------ events
    def set_events(self, ids: list[str]) -> None:
        """Show ``ids`` (unknown ones are skipped), all checked."""
        self.event_list.clear()
        self._add_items([i for i in dict.fromkeys(ids) if i in self._events])

    def _add_items(self, ids: list[str]) -> int:
        self.event_list.setSortingEnabled(False)
        self.event_list.blockSignals(True)
        items = []
        for eid in ids:
            r = self._events[eid]
            date = shown_date(r["date"], r["date_precision"])
            it = QTreeWidgetItem([date, r["missile_class"] or "", r["missile_name"] or "", eid])
            it.setData(0, ID_ROLE, eid)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(0, Qt.CheckState.Checked)
            it.setForeground(1, QBrush(QColor(class_color(r["missile_class"]))))
            it.setToolTip(3, eid)
            items.append(it)
        self.event_list.addTopLevelItems(items)
        self.event_list.blockSignals(False)
        self.event_list.setSortingEnabled(True)
        self._update_state()
        return len(items)

    def listed_ids(self) -> list[str]:
        lst = self.event_list
        return [lst.topLevelItem(i).data(0, ID_ROLE) for i in range(lst.topLevelItemCount())]

    def checked_ids(self) -> list[str]:
        """The events that go into the pack (the builder puts them in date order)."""
        out = []
        for i in range(self.event_list.topLevelItemCount()):
            it = self.event_list.topLevelItem(i)
            if it.checkState(0) == Qt.CheckState.Checked:
                out.append(it.data(0, ID_ROLE))
        return out

    def _set_all_checked(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        self.event_list.blockSignals(True)
        for i in range(self.event_list.topLevelItemCount()):
            self.event_list.topLevelItem(i).setCheckState(0, state)
        self.event_list.blockSignals(False)
        self._update_state()

    def _on_event_list_item_changed(self, *_):
        self._update_state()

    def add_by_filter(self) -> int:
        """Add (checked) the store's events matching the filter row; returns how many were new."""
        try:
            a = parse_date_bound(self.filter_from.text())
            b = parse_date_bound(self.filter_to.text(), end=True)
        except ValueError as e:
            self.filter_message.setText(str(e))
            return 0
        cls = self.filter_class.currentData()
        if a is None and b is None and cls is None:
            self.filter_message.setText("Give a date range or a class to add events by filter.")
            return 0
        df = self.store.events_frame(date_from=a, date_to=b, classes=[cls] if cls else None)
        have = set(self.listed_ids())
        new = [i for i in df["id"] if i not in have and i in self._events]
        n = self._add_items(new)
        words = []
        if a or b:
            words.append(f"Korean dates {a or 'start'} to {b or 'end'}")
        if cls:
            words.append(f"class {cls}")
        desc = ", ".join(words)
        if n:
            self.added_filters.append(desc)
        if len(df):
            self.filter_message.setText(f"Added {n:,} event{'s' if n != 1 else ''} ({desc}); "
                                        f"{len(df) - n:,} already listed.")
        else:
            self.filter_message.setText(f"No events match {desc}.")
        return n

    def filters_text(self) -> str:
        parts = [self.origin] if self.origin else []
        parts += [f"added by filter: {f}" for f in self.added_filters]
        unchecked = self.event_list.topLevelItemCount() - len(self.checked_ids())
        if unchecked:
            parts.append(f"{unchecked:,} listed event{'s' if unchecked != 1 else ''} left out by hand")
        return "; ".join(parts)

    # ------------------------------------------------------------------ cover fields
    def _on_classification_changed(self, text: str) -> None:
        m = classification.normalise(text)
        colour = classification.marking_colour(m)
        fg = classification.readable_text_colour(colour)
        self.banner.setText(m or "(no marking)")
        self.banner.setStyleSheet(f"QLabel#classification_banner {{ background: {colour}; color: {fg}; "
                                  "font-weight: bold; padding: 4px; }")
        # A pack marked above UNCLASSIFIED is saved readable by its author alone (POSIX modes;
        # on Windows the folder's ACL decides, as for any file).
        private = bool(m) and privacy.POSIX and privacy.private_marking(classification.highest_level(m))
        self.private_note.setText("Marked above UNCLASSIFIED: the file is saved readable by you alone "
                                  "(mode 0600)." if private else "")
        self.private_note.setVisible(private)
        self._update_state()

    def set_classification(self, text: str) -> None:
        self.classification_combo.setEditText(text)
        self._on_classification_changed(text)

    def sections(self) -> list[str]:
        return [k for k, cb in self.section_checks.items() if cb.isChecked()]

    # ------------------------------------------------------------------ timing options
    def set_timing_options(self, timing: dict | None) -> None:
        """Start the timing controls from ``timing`` (the Timing dock's settings), else from
        the defaults: every category, 30 days, a fresh seed, 10,000 simulations."""
        t = timing or {}
        # the dock's null model, classes, failed launches and window mode pass through as set
        self._timing_extra = {k: t[k] for k in ("when", "null", "classes", "include_failed") if k in t}
        cats = set(t.get("categories") or CALENDAR_CATEGORIES)
        for c, cb in self.timing_category_checks.items():
            cb.setChecked(c in cats)
        self.timing_window.setValue(int(t.get("window") or DEFAULT_TIMING_WINDOW))
        seed = t.get("seed")
        self.timing_seed.setValue(int(seed) if seed is not None else secrets.randbelow(1_000_000))
        sims = int(t.get("simulations") or DEFAULT_SIMULATIONS)
        i = self.timing_simulations.findData(sims)
        if i < 0:
            self.timing_simulations.addItem(f"{sims:,}", sims)
            i = self.timing_simulations.count() - 1
        self.timing_simulations.setCurrentIndex(i)
        x = self._timing_extra
        counts = (f"Counts {classes_phrase(x.get('classes', BALLISTIC_CLASSES), x.get('include_failed', True))}; "
                  f"null model: {NULL_NAMES[x.get('null') or DEFAULT_NULL]}.")
        self.timing_source_label.setText(
            ("As set in the Timing dock; the analysis runs on the events checked for the pack. "
             if timing else "The Timing dock is not open: every category, and a new seed. ") + counts)

    def timing_categories(self) -> list[str]:
        return [c for c, cb in self.timing_category_checks.items() if cb.isChecked()]

    def timing_options(self) -> dict | None:
        """The timing analysis to add (for :func:`build_job`), or None when it is off."""
        if not (self.timing_check.isChecked() and self.timing_check.isEnabled()):
            return None
        return {"categories": self.timing_categories(), "window": self.timing_window.value(),
                "seed": self.timing_seed.value(), "simulations": self.timing_simulations.currentData(),
                **getattr(self, "_timing_extra", {})}

    def _on_timing_check_toggled(self, on: bool) -> None:
        self.timing_box.setEnabled(on)
        self._update_state()

    def _on_path_edit_text_edited(self, *_):
        self._path_edited = True
        self._update_state()

    def _update_path(self) -> None:
        """Follow the title and date in the file name until the user types a path."""
        if self._path_edited:
            return
        folder = settings().value(SETTINGS_PREFIX + "folder", "", str) or str(Path.home())
        d = self.date_edit.date().toPython()
        self.path_edit.setText(str(Path(folder) / suggested_name(self.title_edit.text() or DEFAULT_TITLE, d)))
        self._update_state()

    def browse(self) -> str | None:
        current = self.path_edit.text().strip()
        path, _ = QFileDialog.getSaveFileName(self, "Save briefing pack", current, "Excel workbook (*.xlsx)")
        if not path:
            return None
        p = Path(path)
        p = p.with_name(sanitise_filename(p.name))
        self.path_edit.setText(str(p))
        self._path_edited = True
        self._update_state()
        return str(p)

    def options(self) -> PackOptions:
        judgments = [j.strip() for j in self.judgments_edit.toPlainText().splitlines() if j.strip()]
        return PackOptions(
            output=self.path_edit.text().strip(),
            title=self.title_edit.text().strip() or DEFAULT_TITLE,
            subtitle=self.subtitle_edit.text().strip(),
            author=self.author_edit.text().strip(),
            organisation=self.organisation_edit.text().strip(),
            date=self.date_edit.date().toPython(),
            key_judgments=judgments,
            classification=self.classification_combo.currentText(),
            sections=self.sections(),
            filters=self.filters_text(),
        )

    def problem(self) -> str | None:
        """Why the pack cannot be built yet, or None."""
        if not self.checked_ids():
            return "Check at least one event."
        if not self.sections():
            return "Choose at least one section."
        if not classification.normalise(self.classification_combo.currentText()):
            return "Choose or type a classification marking."
        if not self.path_edit.text().strip():
            return "Choose where to save the pack."
        if self.timing_check.isChecked() and not self.timing_categories():
            return "Choose at least one calendar category for the timing analysis."
        return None

    def _update_state(self) -> None:
        n, total = len(self.checked_ids()), self.event_list.topLevelItemCount()
        self.events_label.setText(f"<b>{n:,}</b> of {total:,} listed events go into the pack")
        busy = self._worker is not None
        problem = self.problem()
        self.build_button.setEnabled(not busy and problem is None)
        if not busy:
            self.status_label.setText(problem or "")

    # ------------------------------------------------------------------ building
    def build(self) -> bool:
        """Start the build on the thread pool. Returns False when it could not start."""
        if self._worker is not None:
            return False
        problem = self.problem()
        if problem:
            self.status_label.setText(problem)
            return False
        opts = self.options()
        ids = self.checked_ids()
        self._save_settings()
        worker = Worker(build_job, self.store.target, ids, opts, self.timing_options())
        worker.signals.progressed.connect(self._on_worker_progressed)
        worker.signals.finished.connect(self._on_worker_finished)
        worker.signals.failed.connect(self._on_worker_failed)
        worker.signals.cancelled.connect(self._on_worker_cancelled)
        self._worker = worker
        self._set_busy(True)
        self.status_label.setText(f"Building the pack of {len(ids):,} event{'' if len(ids) == 1 else 's'}…")
        start(worker, QThreadPool.globalInstance())
        return True

    def cancel_build(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.cancel_button.setEnabled(False)
            self.status_label.setText("Cancelling…")

    def _set_busy(self, busy: bool) -> None:
        self.progress_bar.setVisible(busy)
        self.progress_bar.setRange(0, 0)
        self.cancel_button.setEnabled(busy)
        for w in (self.build_button, self.event_list, self.path_edit, self.browse_button, self.add_button):
            w.setEnabled(not busy)
        if not busy:
            self._update_state()

    def _on_worker_progressed(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
        else:
            self.progress_bar.setRange(0, 0)
        if text:
            self.status_label.setText(f"Building: {text}…")

    def _finish(self) -> None:
        self._worker = None
        self._set_busy(False)
        if self._close_when_done:
            super().reject()

    def _on_worker_finished(self, path: str) -> None:
        self.last_path = path
        self._finish()
        settings().setValue(SETTINGS_PREFIX + "folder", str(Path(path).parent))
        self.status_label.setText(f"Built {path}")
        self.pack_built.emit(path)
        if self.open_after_check.isChecked() and not self._close_when_done:
            if not open_file(path):
                self.status_label.setText(f"Built {path} (no program here could open it)")

    def _on_worker_failed(self, message: str) -> None:
        self._finish()
        self.status_label.setText(f"Not built: {message}")
        self.build_failed.emit(message)
        if not self._close_when_done:
            QMessageBox.warning(self, "Briefing pack", f"The pack was not built.\n\n{message}")

    def _on_worker_cancelled(self) -> None:
        self._finish()
        self.status_label.setText("Cancelled; nothing was written.")
        self.build_cancelled.emit()

    def reject(self) -> None:  # Qt override: closing while building cancels first
        if self._worker is not None:
            self._close_when_done = True
            self.cancel_build()
            return
        super().reject()

    def closeEvent(self, event):  # noqa: N802 (Qt override)
        if self._worker is not None:
            self._close_when_done = True
            self.cancel_build()
            event.ignore()
            return
        super().closeEvent(event)

    # ------------------------------------------------------------------ settings
    def _restore(self) -> None:
        s = settings()
        self.author_edit.setText(s.value(SETTINGS_PREFIX + "author", "", str))
        self.organisation_edit.setText(s.value(SETTINGS_PREFIX + "organisation", "", str))
        # No marking is assumed: the analyst's last choice, else the administrator's site
        # default, else none (the Build button then asks for one).
        try:
            site = privacy.default_marking() or ""
        except UserError:
            site = ""
        self.set_classification(s.value(SETTINGS_PREFIX + "classification", "", str) or site)
        self.open_after_check.setChecked(s.value(SETTINGS_PREFIX + "open_after", "true", str) == "true")
        saved = s.value(SETTINGS_PREFIX + "sections", "", str)
        if saved:
            chosen = set(saved.split(","))
            for k, cb in self.section_checks.items():
                cb.setChecked(k in chosen)

    def _save_settings(self) -> None:
        s = settings()
        s.setValue(SETTINGS_PREFIX + "author", self.author_edit.text().strip())
        s.setValue(SETTINGS_PREFIX + "organisation", self.organisation_edit.text().strip())
        s.setValue(SETTINGS_PREFIX + "classification", classification.normalise(
            self.classification_combo.currentText()))
        s.setValue(SETTINGS_PREFIX + "open_after", "true" if self.open_after_check.isChecked() else "false")
        s.setValue(SETTINGS_PREFIX + "sections", ",".join(self.sections()))
        folder = str(Path(self.path_edit.text().strip()).expanduser().parent)
        if folder and os.path.isdir(folder):
            s.setValue(SETTINGS_PREFIX + "folder", folder)


# ---------------------------------------------------------------------- the window
def open_pack_dialog(window, ids: list[str] | None = None) -> PackDialog:
    """Open the dialog on the selection (else on the events the table shows)."""
    if ids is None:
        ids = list(window.selection.ids)
        if ids:
            origin = f"{len(ids):,} event{'s' if len(ids) != 1 else ''} selected in the event table"
        else:
            ids = list(window.visible_event_ids()) if hasattr(window, "visible_event_ids") else []
            origin = (f"the {len(ids):,} event{'' if len(ids) == 1 else 's'} shown in the event table")
            spec = getattr(getattr(window, "filter_bar", None), "spec", None)
            desc = _describe_spec(spec()) if callable(spec) else ""
            if desc:
                origin += f" (filters: {desc})"
    else:
        origin = f"{len(ids):,} event{'' if len(ids) == 1 else 's'} chosen"
    dlg = PackDialog(window.store, ids, origin=origin, timing=timing_settings_of(window), parent=window)
    window.pack_dialog = dlg
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.open()
    return dlg


def _describe_spec(spec) -> str:
    """The table filters in words (empty when nothing filters)."""
    parts = []
    if getattr(spec, "date_from", None) or getattr(spec, "date_to", None):
        parts.append(f"Korean dates {spec.date_from or 'start'} to {spec.date_to or 'end'}")
    if getattr(spec, "classes", None):
        parts.append("classes " + ", ".join(sorted(spec.classes)))
    if getattr(spec, "text", ""):
        parts.append(f"text '{spec.text}'")
    if getattr(spec, "outcome", None):
        parts.append(f"outcome {spec.outcome}")
    if getattr(spec, "confirmation", None):
        parts.append(f"{spec.confirmation} only")
    if getattr(spec, "has_notes", False):
        parts.append("with notes")
    return "; ".join(parts)


def install(window) -> QAction:
    """File ▸ Build briefing pack…, a toolbar button and the table's right-click menu."""
    existing = getattr(window, "pack_action", None)
    if existing is not None:
        return existing
    action = QAction(pack_icon(), "Build briefing pack…", window)
    action.setObjectName("build_pack_action")
    action.setShortcut(QKeySequence("Ctrl+Shift+B"))
    action.setToolTip("Build the Excel briefing pack from the selected events")
    action.setStatusTip("Build the Excel briefing pack from the selected events")
    action.triggered.connect(lambda *_: open_pack_dialog(window))
    menu = window.menus.get("File") if hasattr(window, "menus") else None
    if menu is not None:
        first = menu.actions()[0] if menu.actions() else None
        menu.insertAction(first, action)
        if first is not None:
            menu.insertSeparator(first)
    toolbar = getattr(window, "toolbar", None)
    if toolbar is not None:
        toolbar.addSeparator()
        toolbar.addAction(action)
    hook = getattr(getattr(window, "table", None), "add_context_action", None)
    if callable(hook):  # the event table's right-click menu (ui.event_table.EventTable)
        hook(action)
    window.pack_action = action
    return action


if __name__ == "__main__":  # pragma: no cover - a look at the dialog on the bundled data
    import sys
    import tempfile

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    db = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else tempfile.mkdtemp() + "/preview.sqlite3"
    st = Store.open(db)
    recent = list(st.events_frame(date_from=f"{_dt.date.today().year - 1}-01-01")["id"])
    dlg = PackDialog(st, recent, origin=f"{len(recent)} recent events (preview)")
    dlg.show()
    if len(sys.argv) > 2:  # preview.py DB|- SCREENSHOT.png
        QTimer.singleShot(400, lambda: (dlg.grab().save(sys.argv[2]), app.quit()))
    app.exec()
    st.close()
