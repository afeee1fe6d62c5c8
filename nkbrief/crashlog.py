"""The crash log: full tracebacks of unexpected errors, kept in a private rotating file.

The window never shows a traceback: it shows one plain dialog and writes the details here
(``ui/crash.py``). The log lives in the user log folder (platformdirs ``user_log_dir``:
``~/.local/state/nkbrief/log`` on Linux, ``%LOCALAPPDATA%\\nkbrief\\Logs`` on Windows). The
folder is created with mode 0700 and every log file (the rotated ones too) with 0600: a
traceback can quote launch data. ``selfcheck`` prints the path. Qt-free.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from pathlib import Path
from types import TracebackType

from . import privacy

LOG_NAME = "nkbrief.log"
#: Size of one log file and how many rotated ones are kept (nkbrief.log.1 ... .3).
MAX_BYTES = 1_000_000
BACKUPS = 3

_LOGGER = "nkbrief.crash"


def log_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("nkbrief", appauthor=False))


def log_path() -> Path:
    """Where the crash log is (it may not exist yet)."""
    return log_dir() / LOG_NAME


@functools.cache
def _handler_class() -> type:
    """A RotatingFileHandler whose files are created with mode 0600 (whatever the umask).
    (logging.handlers is imported on the first error, not at start-up.)"""
    import logging.handlers

    class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
        def _open(self):
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
            return open(os.open(self.baseFilename, flags, 0o600), self.mode, encoding=self.encoding,
                        errors=self.errors)

    return PrivateRotatingFileHandler


def _logger():
    """The crash logger, with its file handler attached on first use; None when the log
    folder cannot be made (a read-only home): the caller then says the log is unavailable.
    (logging is imported on the first error, not at start-up.)"""
    import logging

    log = logging.getLogger(_LOGGER)
    path = log_path()
    for h in log.handlers:
        if getattr(h, "baseFilename", None) == str(path.absolute()):
            return log
    for h in list(log.handlers):  # the user log folder moved (tests): follow it
        log.removeHandler(h)
        h.close()
    try:
        privacy.make_private_dir(path.parent)  # 0700, tightened if it was wider (issue 19)
        if path.exists():
            privacy.tighten_file(path)
        handler = _handler_class()(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8",
                                              delay=False)
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # never to the screen
    return log


def log_exception(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
                  what: str = "") -> Path | None:
    """Write the full traceback to the crash log; returns the log's path, or None when the
    log could not be written."""
    log = _logger()
    if log is None:
        return None
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    try:
        log.error("unexpected error%s (nkbrief pid %d, Python %s)\n%s", f" while {what}" if what else "",
                  os.getpid(), sys.version.split()[0], text.rstrip())
        for h in log.handlers:
            h.flush()
    except Exception:  # a full disk must not turn one error into two
        return None
    return log_path()


def describe(exc: BaseException) -> str:
    """One line naming an exception for the analyst: 'ValueError: bad thing'."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
