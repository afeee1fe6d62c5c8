"""Run a core function on the thread pool; its progress callback becomes Qt signals.

The core function takes ``progress=`` (an :class:`nkbrief.progress.Progress`). The worker
passes one whose callback emits :attr:`WorkerSignals.progressed`; ``cancel()`` makes the
next progress call raise ``Cancelled`` inside the function, which ends as ``cancelled``.

The pool thread never calls the window's slots itself: it emits private signals that are
queued to :class:`WorkerSignals` on the GUI thread, which passes them on unless the worker
was detached. :func:`shutdown` (the window's close) cancels every running worker, waits
for it, and detaches it, so no result, progress or failure reaches a window that is going
away (closing during the timing analysis used to print "Internal C++ object already
deleted" tracebacks).

A failure the core phrased for the analyst (its own exception classes, OSError) is passed
on as its one-line message. Anything else is a bug: its traceback goes to the crash log
(:mod:`nkbrief.crashlog`), never to the screen, and the message says where the log is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

from nkbrief import crashlog
from nkbrief.common import UserError
from nkbrief.progress import Cancelled, Progress


class WorkerSignals(QObject):
    progressed = Signal(int, int, str)  # done, total, text
    finished = Signal(object)  # the function's result
    failed = Signal(str)  # a message for the user
    cancelled = Signal()

    # emitted on the pool thread, queued to this object (on the GUI thread)
    _progressed = Signal(int, int, str)
    _finished = Signal(object)
    _failed = Signal(str)
    _cancelled = Signal()

    def __init__(self):
        super().__init__()
        self.detached = False
        q = Qt.ConnectionType.QueuedConnection
        self._progressed.connect(self._on_progressed, q)
        self._finished.connect(self._on_finished, q)
        self._failed.connect(self._on_failed, q)
        self._cancelled.connect(self._on_cancelled, q)

    def _on_progressed(self, done: int, total: int, text: str) -> None:
        if not self.detached:
            self.progressed.emit(done, total, text)

    def _on_finished(self, result: object) -> None:
        if not self.detached:
            self.finished.emit(result)

    def _on_failed(self, message: str) -> None:
        if not self.detached:
            self.failed.emit(message)

    def _on_cancelled(self) -> None:
        if not self.detached:
            self.cancelled.emit()


_running: set[Worker] = set()
_lock = threading.Lock()


def _expected(e: BaseException) -> bool:
    """A failure the core phrased for the analyst (its own exception classes) or a file error."""
    return isinstance(e, (OSError, UserError)) or type(e).__module__.split(".")[0] == "nkbrief"


def failure_message(e: BaseException) -> str:
    """The one line a failed job shows; an unexpected error is logged first."""
    if _expected(e):
        return str(e) or e.__class__.__name__
    path = crashlog.log_exception(type(e), e, e.__traceback__, "running a background job")
    where = f"the details are in {path}" if path else "the log could not be written"
    return f"unexpected error ({crashlog.describe(e)}); nothing was lost; {where}"


class Worker(QRunnable):
    """``Worker(fn, *args, **kwargs)``; ``fn`` is called with ``progress=`` added."""

    def __init__(self, fn: Callable, *args, **kwargs):
        super().__init__()
        self.setAutoDelete(False)
        self.signals = WorkerSignals()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.progress = Progress(lambda d, t, s: self._emit(self.signals._progressed, d, t, s))
        self.done = threading.Event()

    def cancel(self) -> None:
        self.progress.cancel()

    def detach(self) -> None:
        """From now on, nothing this worker emits reaches its listeners."""
        self.signals.detached = True

    def _emit(self, signal, *args) -> None:
        if self.signals.detached:
            return
        try:
            signal.emit(*args)
        except RuntimeError:  # the signals object is gone (interpreter shutdown): nobody listens
            pass

    def run(self) -> None:  # Qt override, runs on a pool thread
        try:
            try:
                result = self._fn(*self._args, progress=self.progress, **self._kwargs)
            except Cancelled:
                self._emit(self.signals._cancelled)
            except Exception as e:
                self._emit(self.signals._failed, failure_message(e))
            else:
                self._emit(self.signals._finished, result)
        finally:
            with _lock:
                _running.discard(self)
            self.done.set()


def start(worker: Worker, pool: QThreadPool | None = None) -> Worker:
    with _lock:
        _running.add(worker)
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker


def running() -> list[Worker]:
    with _lock:
        return list(_running)


def shutdown(timeout: float = 120.0) -> bool:
    """Cancel every running worker, wait for each to end (up to ``timeout`` seconds in all)
    and detach it. True when all of them ended."""
    workers = running()
    for w in workers:
        w.cancel()
    deadline = time.monotonic() + timeout
    ended = all(w.done.wait(max(0.0, deadline - time.monotonic())) for w in workers)
    for w in workers:
        w.detach()
    return ended
