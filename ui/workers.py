"""Run a core function on the thread pool; its progress callback becomes Qt signals.

The core function takes ``progress=`` (an :class:`nkbrief.progress.Progress`). The worker
passes one whose callback emits :attr:`WorkerSignals.progressed`; ``cancel()`` makes the
next progress call raise ``Cancelled`` inside the function, which ends as ``cancelled``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from nkbrief.common import UserError
from nkbrief.progress import Cancelled, Progress


class WorkerSignals(QObject):
    progressed = Signal(int, int, str)  # done, total, text
    finished = Signal(object)  # the function's result
    failed = Signal(str)  # a message for the user
    cancelled = Signal()


class Worker(QRunnable):
    """``Worker(fn, *args, **kwargs)``; ``fn`` is called with ``progress=`` added."""

    def __init__(self, fn: Callable, *args, **kwargs):
        super().__init__()
        self.setAutoDelete(False)
        self.signals = WorkerSignals()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.progress = Progress(lambda d, t, s: self.signals.progressed.emit(d, t, s))

    def cancel(self) -> None:
        self.progress.cancel()

    def run(self) -> None:  # Qt override, runs on a pool thread
        try:
            result = self._fn(*self._args, progress=self.progress, **self._kwargs)
        except Cancelled:
            self.signals.cancelled.emit()
        except UserError as e:  # an expected refusal ("row 14: ..."): its message is the whole story
            self.signals.failed.emit(str(e) or e.__class__.__name__)
        except Exception as e:  # shown to the user as one line; details go to stderr
            traceback.print_exc()
            self.signals.failed.emit(str(e) or e.__class__.__name__)
        else:
            self.signals.finished.emit(result)


def start(worker: Worker, pool: QThreadPool | None = None) -> Worker:
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker
