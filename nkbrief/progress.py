"""Progress reporting and cancellation for long core functions, Qt-free.

A long function takes ``progress: Progress | None``. It calls ``progress(done, total, text)``
now and then; that call raises :class:`Cancelled` once someone called ``cancel()``, so the
function stops at a safe point (inside a store transaction, which then rolls back).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Cancelled(Exception):
    """The user cancelled; nothing was changed."""


class Progress:
    """A progress sink with a cancel flag. ``callback(done, total, text)`` may be None."""

    def __init__(self, callback: Callable[[int, int, str], None] | None = None):
        self._callback = callback
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def __call__(self, done: int, total: int = 0, text: str = "") -> None:
        if self._cancelled.is_set():
            raise Cancelled("cancelled")
        if self._callback is not None:
            self._callback(done, total, text)


def report(progress: Progress | None, done: int, total: int = 0, text: str = "") -> None:
    """Call ``progress`` if there is one (a convenience for optional progress arguments)."""
    if progress is not None:
        progress(done, total, text)
