"""Unexpected errors in the window: one plain dialog, the traceback in the crash log.

:func:`install` replaces ``sys.excepthook`` (which PySide6 calls for an exception raised in
a slot or a Qt virtual method) and ``threading.excepthook``. The traceback goes to the
rotating crash log (:mod:`nkbrief.crashlog`), never to the screen, and the analyst sees
what failed, that nothing was lost (every change to the store is one transaction, so an
error leaves it as it was) and where the log is. The window keeps running. Errors that
arrive while the dialog is open are logged and counted in it, not stacked as new dialogs.
"""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from nkbrief import crashlog


def message(what: str, log: str | None) -> str:
    """The dialog's text."""
    where = (f"The details were written to the log:\n{log}" if log
             else "The details could not be written to the log (its folder cannot be written).")
    return (f"Something went wrong: {what}.\n\n"
            "Nothing was lost: every change to the store is saved as a whole or not at all, "
            "and the window keeps running.\n\n" + where)


class CrashReporter(QObject):
    """Logs unexpected exceptions and shows them in a dialog over ``parent``."""

    crashed = Signal(str, str)  # what failed, the log's path ("" when not written)

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.window = parent
        self.dialog: QMessageBox | None = None
        self.count = 0  # errors shown since the dialog opened
        self._previous = None
        self._previous_thread = None
        self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)

    # --------------------------------------------------------------- hooks
    def install(self) -> CrashReporter:
        self._previous, sys.excepthook = sys.excepthook, self.excepthook
        self._previous_thread, threading.excepthook = threading.excepthook, self._thread_hook
        return self

    def uninstall(self) -> None:
        if sys.excepthook == self.excepthook:
            sys.excepthook = self._previous or sys.__excepthook__
        if threading.excepthook == self._thread_hook:
            threading.excepthook = self._previous_thread or threading.__excepthook__

    def excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            (self._previous or sys.__excepthook__)(exc_type, exc, tb)
            return
        self.report(exc_type, exc, tb)
        # A hook installed before ours that is not Python's printing default (pytest-qt's
        # exception capture in tests) still hears about it.
        if self._previous not in (None, sys.__excepthook__):
            self._previous(exc_type, exc, tb)

    def _thread_hook(self, args) -> None:
        if args.exc_type is SystemExit:
            return
        where = f"in the background task {args.thread.name}" if args.thread is not None else ""
        self.report(args.exc_type, args.exc_value, args.exc_traceback, where)

    def report(self, exc_type, exc, tb, what: str = "") -> None:
        """Log the exception and (on the GUI thread, soon) show the dialog; safe from any thread."""
        path = crashlog.log_exception(exc_type, exc, tb, what)
        text = crashlog.describe(exc) if exc is not None else exc_type.__name__
        self.crashed.emit(f"{what}: {text}" if what else text, str(path) if path else "")

    # -------------------------------------------------------------- dialog
    def _show(self, what: str, log: str) -> None:
        self.count += 1
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.setInformativeText(f"{self.count - 1} more error(s) since; each is in the log.")
            return
        self.count = 1
        parent = self.window if isinstance(self.window, QWidget) and self.window.isVisible() else None
        dlg = QMessageBox(QMessageBox.Icon.Critical, "nkbrief: something went wrong",
                          message(what, log or None), QMessageBox.StandardButton.Ok, parent)
        dlg.setObjectName("crash_dialog")
        dlg.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.dialog = dlg
        dlg.open()  # not exec(): an error inside a nested event loop must not stack loops


def install(window: QWidget) -> CrashReporter:
    """Report unexpected exceptions over ``window`` from now on (``run_gui`` calls this)."""
    return CrashReporter(window).install()
