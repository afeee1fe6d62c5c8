"""The window's import actions: open the import dialog, undo the last import, export the dataset.

``install(window)`` adds File ▸ Import…, File ▸ Export dataset…, Edit ▸ Undo import…, a
toolbar button, and makes files dropped on the window open the import dialog. Long work runs
on the thread pool with its own store connection; afterwards the window's store is told so
every view reloads.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from nkbrief.jobs import imports

from . import undo
from .import_dialog import FILE_FILTER, ImportDialog, undo_job
from .style import icon
from .workers import Worker, start

EXPORT_FILTER = "CSV (*.csv);;Excel workbook (*.xlsx);;JSON (*.json)"


def export_job(db_path: str, path: str, ids, progress=None):
    """:func:`nkbrief.jobs.imports.export_events` on its own store connection (errors are raised)."""
    return imports.export_events(db_path, path, ids=ids, progress=progress)


def open_import_dialog(window, paths: list[str] | None = None) -> ImportDialog | None:
    """Open the dialog on ``paths`` (asks for files when None)."""
    if paths is None:
        paths, _ = QFileDialog.getOpenFileNames(window, "Import data files", "", FILE_FILTER)
        if not paths:
            return None
    existing = getattr(window, "import_dialog", None)
    if existing is not None and existing.isVisible():
        existing.add_files(list(paths))
        existing.raise_()
        return existing
    dlg = ImportDialog(window.store, list(paths), window)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    dlg.import_finished.connect(lambda res, d=dlg: on_import_finished(window, d, res))
    dlg.undo_hook = lambda batch_id: undo_via_stack(window, batch_id)
    window.import_dialog = dlg
    dlg.show()
    return dlg


def on_import_finished(window, dlg, res) -> None:
    """An import was written: put it on the Ctrl+Z stack and select its events."""
    if res.batch_id is None or dlg.parsed is None:
        return
    cmd = undo.ImportCommand(window.store, dlg.parsed, dlg.resolutions(), res)
    undo.push(window.undo_stack, cmd)  # selects cmd.ids (MainWindow._on_undo_index_changed)
    window.statusBar().showMessage(f"Imported {dlg.parsed.name} as batch {res.batch_id}: {len(cmd.ids):,} "
                                   "events selected; Ctrl+Z undoes the import", 8000)


def undo_via_stack(window, batch_id: int) -> bool:
    """Undo import ``batch_id`` with the window's Ctrl+Z stack if it is the next step there."""
    stack = window.undo_stack
    cmd = stack.command(stack.index() - 1) if stack.index() > 0 else None
    if isinstance(cmd, undo.ImportCommand) and cmd.result.batch_id == batch_id:
        stack.undo()
        return True
    return False


def undo_last_import(window) -> Worker | None:
    """Edit ▸ Undo import…: undo the newest import still in effect, after asking."""
    last = imports.last_undoable_batch(window.store)
    if last is None:
        QMessageBox.information(window, "Undo import", "There is no import to undo.")
        return None
    text = (f"Undo import {last['id']} of {last['file_name']} ({last['created_utc']} by {last['user']})?\n\n"
            f"This removes the {last['added']:,} events it added and restores the {last['updated']:,} it "
            "changed.")
    answer = QMessageBox.question(window, "Undo import", text)
    if answer != QMessageBox.StandardButton.Yes:
        return None
    if undo_via_stack(window, last["id"]):  # the same step as Ctrl+Z, so Redo can bring it back
        window.statusBar().showMessage(f"Undid import {last['id']} ({last['file_name']})", 8000)
        return None
    worker = Worker(undo_job, window.store.target, last["id"])

    def finished(res):
        window.store.notify("events")
        window.statusBar().showMessage(f"Undid import {res.batch_id} ({res.file_name}): removed "
                                       f"{res.removed:,} events, restored {res.restored:,}", 8000)
    worker.signals.finished.connect(finished)
    worker.signals.failed.connect(lambda msg: QMessageBox.warning(window, "Undo import", msg))
    window._undo_import_worker = worker
    start(worker, QThreadPool.globalInstance())
    return worker


def export_dataset_dialog(window, path: str | None = None) -> Worker | None:
    """File ▸ Export dataset…: all events, or the ones the filters show, to .csv/.xlsx/.json."""
    ids = None
    visible = window.visible_event_ids() if hasattr(window, "visible_event_ids") else None
    total = window.store.event_count()
    if visible is not None and len(visible) < total:
        choice, ok = QInputDialog.getItem(window, "Export dataset", "Export:",
                                          [f"the {len(visible):,} events shown", f"all {total:,} events"],
                                          0, False)
        if not ok:
            return None
        ids = visible if choice.startswith("the") else None
    if path is None:
        path, _ = QFileDialog.getSaveFileName(window, "Export dataset", "nkbrief-events.xlsx", EXPORT_FILTER)
        if not path:
            return None
    worker = Worker(export_job, window.store.target, path, ids)

    def finished(res):
        window.statusBar().showMessage(f"Exported {res.events:,} events to {res.path}", 8000)
    worker.signals.finished.connect(finished)
    worker.signals.failed.connect(lambda msg: QMessageBox.warning(window, "Export dataset", msg))
    window._export_worker = worker
    start(worker, QThreadPool.globalInstance())
    return worker


def install(window) -> QAction:
    """File ▸ Import… and Export dataset…, Edit ▸ Undo import…, a toolbar button, drag and drop."""
    existing = getattr(window, "import_action", None)
    if existing is not None:
        return existing
    imp = QAction(icon("import"), "&Import…", window)
    imp.setObjectName("import_action")
    imp.setShortcut(QKeySequence("Ctrl+I"))
    imp.setStatusTip("Import a colleague's CSV, Excel or JSON file (preview, check and merge first)")
    imp.triggered.connect(lambda *_: open_import_dialog(window))
    exp = QAction("E&xport dataset…", window)
    exp.setObjectName("export_dataset_action")
    exp.setStatusTip("Export the events as CSV, Excel or JSON for colleagues")
    exp.triggered.connect(lambda *_: export_dataset_dialog(window))
    und = QAction("Undo &import…", window)
    und.setObjectName("undo_import_action")
    und.setStatusTip("Remove what the last import added and restore what it changed")
    und.triggered.connect(lambda *_: undo_last_import(window))
    menus = getattr(window, "menus", {}) or {}
    f = menus.get("File")
    if f is not None:
        first = f.actions()[0] if f.actions() else None
        f.insertAction(first, imp)
        f.insertAction(first, exp)
        if first is not None:
            f.insertSeparator(first)
    e = menus.get("Edit")
    if e is not None:
        acts = e.actions()
        after = acts[2] if len(acts) > 2 else None  # after Undo and Redo
        e.insertAction(after, und)
    tb = getattr(window, "toolbar", None)
    if tb is not None:
        first = tb.actions()[0] if tb.actions() else None
        tb.insertAction(first, imp)
    window.import_action, window.export_dataset_action, window.undo_import_action = imp, exp, und
    window.import_files = lambda paths: open_import_dialog(window, [str(p) for p in paths])
    return imp
