"""The window on a team store and its offline copies: File ▸ Pull an offline copy…, File ▸ Push
my changes…, the status bar's name of the open store, and read-only mode.

``install(window)`` adds the two actions and, on a store that cannot be written
(``store.read_only_reason``, a reader role), turns every writing action off with the reason
as tooltip: add, edit, delete, notes, import, undo import, the calendar editor's edits
(filtering, selection and packs still work). Pull and push run on the thread pool
(:mod:`nkbrief.jobs.sync`, each with its own connections); the push dialog reviews what
would be sent with the import dialog's merge review (:class:`ui.import_dialog.MergeReview`).
After a push the copy is pulled again and the window reopens it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QCheckBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QMessageBox, QProgressBar, QPushButton, QVBoxLayout)

from nkbrief.common import plural, shown
from nkbrief.jobs import sync
from nkbrief.store import Store, StoreError

from .import_dialog import MergeReview
from .style import style_dialog
from .workers import Worker, start


# ------------------------------------------------------------------ jobs (run on the thread pool)
def pull_job(source: str, dest: str, force: bool, progress=None):
    return sync.pull(source, dest, force=force, progress=progress)


def review_job(local: str, progress=None):
    return sync.review(local)


def push_job(local: str, chosen: dict[int, str], reviewed, progress=None):
    return sync.push(local, None, chosen, reviewed=reviewed, progress=progress)


# ------------------------------------------------------------------ the open store
def _origin(store: Store) -> sync.Origin | None:
    if getattr(store, "engine", "sqlite") != "sqlite":
        return None
    try:
        return sync.origin(store)
    except Exception:  # a store from another tool may lack the tables; the name is optional
        return None


def describe_store(window) -> None:
    """Name the open store in the status bar and title: a file, an offline copy (of which
    store, pulled when), or a team server (as which user, read-only or not)."""
    st = window.store
    text, tip = window.store_text  # what MainWindow.replace_store (or __init__) said of this store
    o = _origin(st)
    title = Path(str(st.path)).name
    if o is not None:
        text = f"offline copy of {sync.short_label(o.source)} (pulled {o.pulled_utc[:16].replace('T', ' ')} UTC)"
        tip = f"{st.path}\noffline copy of {o.source}, pulled {o.pulled_utc}; File ▸ Push my changes… sends " \
              "your changes back"
        title = f"{title} (offline copy of {sync.short_label(o.source)})"
    elif getattr(st, "engine", "sqlite") != "sqlite":
        title = f"{sync.target_label(getattr(st, 'target', st.path))} (team store, {st.user})"
    if window.read_only_reason:
        title += " — read-only"
    window.store_text = (text, tip)
    window.setWindowTitle(f"nkbrief — {title}")
    window.status_store.setText(text)
    window.status_store.setToolTip(tip)
    push = getattr(window, "push_action", None)
    if push is not None:
        push.setEnabled(o is not None and not window.read_only_reason)
        tip = ("Send the changes made in this offline copy back to " + o.source if o else
               "Open an offline copy (File ▸ Pull an offline copy…) to push changes from it")
        push.setToolTip(f"Read-only: {window.read_only_reason}" if window.read_only_reason else tip)
        push.setStatusTip(push.toolTip())


def switch_store(window, store: Store) -> None:
    """Show ``store`` in ``window`` instead of the one open (:meth:`MainWindow.replace_store`),
    named in the status bar and title."""
    window.replace_store(store)
    describe_store(window)


# ------------------------------------------------------------------ pull
def _add_footer(dlg: QDialog, lay: QVBoxLayout, action: str, slot) -> QPushButton:
    """A sync dialog's foot: its message line, a hidden progress bar, Close and the action button
    (``dlg.message``, ``dlg.progress``, ``dlg.close_button``; the action button is returned)."""
    dlg.message = QLabel("", dlg)
    dlg.message.setWordWrap(True)
    lay.addWidget(dlg.message)
    dlg.progress = QProgressBar(dlg)
    dlg.progress.setVisible(False)
    lay.addWidget(dlg.progress)
    buttons = QHBoxLayout()
    buttons.addStretch(1)
    dlg.close_button = QPushButton("Close", dlg)
    dlg.close_button.clicked.connect(dlg.reject)
    button = QPushButton(action, dlg)
    button.setObjectName(f"{action.lower()}_button")
    button.setDefault(True)
    button.clicked.connect(slot)
    buttons.addWidget(dlg.close_button)
    buttons.addWidget(button)
    lay.addLayout(buttons)
    return button


class PullDialog(QDialog):
    """Where to pull from and where the copy goes; the pull runs on the thread pool."""

    pulled = Signal(object)  # the PullResult

    def __init__(self, window, source: str = "", dest: str = ""):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("pull_dialog")
        self.setWindowTitle("Pull an offline copy")
        style_dialog(self)
        self.result_: sync.PullResult | None = None
        lay = QVBoxLayout(self)
        intro = QLabel("A local copy of a store to work on without the server: edit, add and delete "
                       "events as usual, then File ▸ Push my changes… sends them back as one import, "
                       "with a review of anything a colleague changed meanwhile.", self)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.source_edit = QLineEdit(source, self)
        self.source_edit.setObjectName("source_edit")
        self.source_edit.setPlaceholderText("postgresql://server/database, service=name, or a store file")
        self.dest_edit = QLineEdit(dest, self)
        self.dest_edit.setObjectName("dest_edit")
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.dest_edit, 1)
        row.addWidget(browse)
        form.addRow("Pull from", self.source_edit)
        form.addRow("Save the copy as", row)
        lay.addLayout(form)
        self.force_box = QCheckBox("Replace the file even if it holds changes not pushed yet", self)
        lay.addWidget(self.force_box)
        self.open_box = QCheckBox("Open the copy in this window", self)
        self.open_box.setChecked(True)
        lay.addWidget(self.open_box)
        self.pull_button = _add_footer(self, lay, "Pull", self.start_pull)
        self.resize(640, 260)

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the offline copy as", self.dest_edit.text(),
                                              "nkbrief stores (*.sqlite3);;All files (*)")
        if path:
            self.dest_edit.setText(path)

    def start_pull(self) -> Worker | None:
        source, dest = self.source_edit.text().strip(), self.dest_edit.text().strip()
        if not source or not dest:
            self._problem("Say where to pull from and where to save the copy.")
            return None
        self.pull_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.message.setStyleSheet("")
        self.message.setText(f"Pulling from {sync.target_label(source)}…")
        worker = Worker(pull_job, source, dest, self.force_box.isChecked())
        worker.signals.progressed.connect(self._on_progressed)
        worker.signals.finished.connect(self._on_finished)
        worker.signals.failed.connect(self._on_failed)
        self._worker = worker
        start(worker, QThreadPool.globalInstance())
        return worker

    def _on_progressed(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(text)

    def _problem(self, msg: str) -> None:
        self.message.setStyleSheet("color: #9B1C14;")
        self.message.setText(msg)

    def _on_failed(self, msg: str) -> None:
        self.progress.setVisible(False)
        self.pull_button.setEnabled(True)
        self._problem(msg)

    def _on_finished(self, res) -> None:
        self.progress.setVisible(False)
        self.result_ = res
        self.message.setText(res.sentence()[0].upper() + res.sentence()[1:] + ".")
        self.pull_button.setEnabled(True)
        self.pulled.emit(res)
        if self.open_box.isChecked():
            try:
                switch_store(self.window_, Store.open(res.path, seed=False))
            except StoreError as e:
                self._problem(str(e))
                return
            self.window_.statusBar().showMessage(f"Opened the offline copy {res.path}", 8000)
            self.accept()


def open_pull_dialog(window) -> PullDialog:
    st = window.store
    o = _origin(st)
    source = o.source if o else (str(getattr(st, "target", "")) if getattr(st, "engine", "sqlite") != "sqlite"
                                 else "")
    dest = str(st.path) if o else str(Path.home() / "nkbrief-offline.sqlite3")
    dlg = PullDialog(window, source, dest)
    window.pull_dialog = dlg
    dlg.show()
    return dlg


# ------------------------------------------------------------------ push
class PushDialog(QDialog):
    """The review of a push (what would be sent; conflicts to decide), then the push."""

    pushed = Signal(object)  # the PushResult

    def __init__(self, window, local_path: str):
        super().__init__(window)
        self.window_ = window
        self.local_path = local_path
        self.setObjectName("push_dialog")
        self.setWindowTitle("Push my changes")
        style_dialog(self)
        self.plan: sync.PushPlan | None = None
        self.result_: sync.PushResult | None = None
        self._choices: dict[int, str] = {}
        lay = QVBoxLayout(self)
        self.summary = QLabel("Comparing the offline copy with the server…", self)
        self.summary.setObjectName("push_summary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.review = MergeReview(self, headers=("On the server now", "Mine (offline copy)"),
                                  labels=sync.PUSH_LABELS, possible_labels=sync.PUSH_LABELS)
        self.review.choice_changed.connect(self.set_resolution)
        self.review.all_chosen.connect(self.set_all_resolutions)
        self.review.conflict_tree.setColumnWidth(0, 380)
        lay.addWidget(self.review, 1)
        self.notes = QLabel("", self)
        self.notes.setObjectName("muted")
        self.notes.setWordWrap(True)
        lay.addWidget(self.notes)
        self.push_button = _add_footer(self, lay, "Push", self.start_push)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.push_button.setEnabled(False)
        self.resize(1180, 640)
        self._run(Worker(review_job, local_path), self._on_reviewed)

    def _run(self, worker: Worker, done) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        worker.signals.finished.connect(done)
        worker.signals.failed.connect(self._on_failed)
        self._worker = worker
        start(worker, QThreadPool.globalInstance())

    def _on_failed(self, msg: str) -> None:
        self.progress.setVisible(False)
        self.message.setStyleSheet("color: #9B1C14;")
        self.message.setText(msg)
        self._update_button()

    def _on_reviewed(self, plan) -> None:
        self.progress.setVisible(False)
        self.plan = plan
        c = plan.plan.counts()
        n = len(plan.reviews)
        parts = [f"{plural(len(plan.automatic), 'edited event')} to update" if plan.automatic else "",
                 f"{plural(c['new'], 'new event')} to add" if c["new"] else "",
                 f"{plural(len(plan.deletions), 'event')} to delete" if plan.deletions else "",
                 f"{plural(len(plan.calendar_ops), 'calendar change')}" if plan.calendar_ops else ""]
        pulled = plan.origin.pulled_utc.replace("T", " ").removesuffix("Z")
        self.summary.setText(
            f"Push to {sync.short_label(plan.target)} what changed in this copy since its pull ({pulled} UTC): "
            f"{', '.join(p for p in parts if p) or 'nothing without a decision'}.")
        self.review.fill([r.item for r in plan.reviews], plan.parsed.incoming, self._choices,
                         f"{plural(n, 'event')} changed both here and on the server since your pull (or added "
                         "on both): choose for each." if n else "Nothing changed on the server that your "
                         "changes would write over.", all_enabled=bool(n), describe=self._describe)
        self.notes.setText("\n".join(f"Not pushed: {shown(x)}" for x in plan.notes))
        self._update_button()

    def _describe(self, item) -> tuple[str, str, str]:
        r = next(x for x in self.plan.reviews if x.item is item)
        ev = self.plan.parsed.incoming[item.index].event
        text = " · ".join(x for x in (ev["date"], ev["missile_class"], ev["launch_site"]) if x)
        when = (r.at_utc or "").replace("T", " ").removesuffix("Z")[:16]
        what = f"{r.user}, {when} UTC" if when else r.user
        if not r.why.startswith("changed on the server"):
            what = f"also added on the server: {what}"
        return text, what, f"{r.event_id}: {r.why}"

    def set_resolution(self, index: int, resolution: str) -> None:
        self._choices[index] = resolution
        self.review.set_choice(index, resolution)
        self._update_button()

    def set_all_resolutions(self, resolution: str) -> None:
        for r in self.plan.reviews if self.plan else []:
            self.set_resolution(r.item.index, resolution)

    def undecided(self) -> list[str]:
        return [r.event_id for r in (self.plan.reviews if self.plan else []) if r.item.index not in self._choices]

    def _update_button(self) -> None:
        left = self.undecided()
        ok = self.plan is not None and self.result_ is None and not left
        self.push_button.setEnabled(ok and not self.progress.isVisible())
        self.push_button.setToolTip(f"Choose for {len(left):,} event(s) first" if left else "")

    def start_push(self) -> None:
        if self.plan is None or self.undecided() or self.result_ is not None:
            return
        self.push_button.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText(f"Pushing to {self.plan.target}…")
        self._run(Worker(push_job, self.local_path, dict(self._choices), self.plan), self._on_pushed)

    def _on_pushed(self, res) -> None:
        self.progress.setVisible(False)
        self.result_ = res
        text = res.sentence()[0].upper() + res.sentence()[1:] + "."
        if res.refresh_error:
            text += " " + res.refresh_error[0].upper() + res.refresh_error[1:] + "."
        elif res.refreshed:
            text += " The offline copy was pulled again and is up to date."
        self.message.setText(text)
        self._update_button()
        if res.refreshed:
            try:
                switch_store(self.window_, Store.open(self.local_path, seed=False))
            except StoreError as e:
                self.message.setText(f"{text} Reopening the copy failed: {e}")
        self.window_.statusBar().showMessage(res.sentence(), 10000)
        self.pushed.emit(res)


def open_push_dialog(window) -> PushDialog | None:
    if _origin(window.store) is None:
        QMessageBox.information(window, "Push my changes", "The open store is not an offline copy. Pull one "
                                "first (File ▸ Pull an offline copy…), work on it, then push.")
        return None
    if window.detail.notes_dirty():
        window.detail.save_notes()
    dlg = PushDialog(window, str(window.store.path))
    window.push_dialog = dlg
    dlg.show()
    return dlg


# ------------------------------------------------------------------ install
def install(window) -> QAction:
    existing = getattr(window, "pull_action", None)
    if existing is not None:
        return existing
    pull = QAction("&Pull an offline copy…", window)
    pull.setObjectName("pull_action")
    pull.setStatusTip("Copy a team store (or another store file) to a local file to work on offline")
    pull.triggered.connect(lambda *_: open_pull_dialog(window))
    push = QAction("Pus&h my changes…", window)
    push.setObjectName("push_action")
    push.triggered.connect(lambda *_: open_push_dialog(window))
    f = window.menus.get("File")
    if f is not None:
        quit_action = getattr(window, "quit_action", None)
        anchor = quit_action if quit_action in f.actions() else None
        f.insertAction(anchor, pull)
        f.insertAction(anchor, push)
        if anchor is not None:
            f.insertSeparator(anchor)
    window.pull_action, window.push_action = pull, push
    for name in ("import_action", "undo_import_action"):
        a = getattr(window, name, None)
        if a is not None and a not in window.write_actions:
            window.write_actions.append(a)
    importer = getattr(window, "import_files", None)
    if callable(importer):
        window.import_files = lambda paths: None if window.refuse_if_read_only() else importer(paths)
    window.apply_read_only()
    describe_store(window)
    return pull


__all__ = ["install", "switch_store", "describe_store", "PullDialog", "PushDialog", "open_pull_dialog",
           "open_push_dialog", "pull_job", "push_job", "review_job"]
