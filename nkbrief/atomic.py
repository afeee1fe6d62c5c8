"""Atomic file writes: a temporary file beside the destination, then one ``os.replace``.

Every writer of user files (the dataset export, the calendar export, the briefing pack)
goes through here, so they all behave alike:

- the destination is checked first by :func:`nkbrief.write_guard.check` (never the store,
  its journal or the file being imported; never a FIFO, device, symlink or folder; the
  folder must exist and be writable), and again just before the rename;
- the temporary file is hidden (``.NAME.<random><suffix>``) in the destination folder, so
  the final rename never crosses file systems; while it is written it is private (mode
  ``0o600``) and a marker in nkbrief's private folder names it, so a killed run's partial
  file is removed at the next start (:mod:`nkbrief.private_tmp`);
- just before the rename it gets the permissions any program saving a new file would
  give it (``0o666`` less the umask, and any default ACL of the folder); when the
  destination already exists its permission bits are kept;
- the data is flushed to disk before the rename, and the folder after it (POSIX), so a
  crash leaves either the old file or the new one, never a torn one.

Errors are plain ``OSError`` s; callers turn them into their own messages.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from . import private_tmp, write_guard

#: Mode asked for when creating a file; the umask takes away what the user does not allow.
NEW_FILE_MODE = 0o666


def temp_name(path: Path, suffix: str = ".part") -> Path:
    """A fresh hidden name beside ``path``: ``.NAME.<8 hex digits><suffix>``."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")


#: The mode each temporary file gets when it is committed (see :func:`create_temp`).
_final_modes: dict[str, int] = {}


def create_temp(path: str | os.PathLike, suffix: str = ".part", keep: Iterable = (), *,
                mode: int | None = None) -> Path:
    """Check ``path`` with the write guard, then create an empty private (0600) temporary
    file beside it and return its path.

    :func:`commit` gives it the mode of a new file (``0o666`` less the umask) or the
    permission bits of ``path`` when it already exists; with ``mode`` (e.g. ``0o600`` for a
    pack marked above UNCLASSIFIED) exactly that, whatever the umask or the file it
    replaces. Raises :class:`nkbrief.write_guard.WriteRefused`, or ``OSError`` (e.g.
    ``PermissionError``) when the folder cannot be written.
    """
    path = write_guard.check(path, keep)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = temp_name(path, suffix)
        try:
            fd = os.open(tmp, flags, NEW_FILE_MODE)
        except FileExistsError:
            continue
        break
    else:  # pragma: no cover - 100 collisions of 32 random bits
        raise FileExistsError(f"cannot find a free temporary name beside {path}")
    try:
        final = stat.S_IMODE(os.fstat(fd).st_mode)  # what the umask (and ACL) allow a new file
        with contextlib.suppress(FileNotFoundError):
            final = stat.S_IMODE(os.stat(path).st_mode)
        if mode is not None:
            final = mode
        if hasattr(os, "fchmod"):
            os.fchmod(fd, private_tmp.FILE_MODE)
    except OSError:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    _final_modes[os.fspath(tmp)] = final
    return tmp


def fsync_file(path: str | os.PathLike) -> None:
    """Flush a written file's data to disk."""
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def fsync_folder(folder: str | os.PathLike) -> None:
    """Make a rename in ``folder`` durable (POSIX; best effort, a no-op elsewhere)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def commit(tmp: str | os.PathLike, path: str | os.PathLike, keep: Iterable = ()) -> None:
    """Flush ``tmp`` to disk and move it over ``path`` in one step (``os.replace``), after
    checking ``path`` again with the write guard and giving ``tmp`` its final mode."""
    write_guard.check(path, keep, folder=False)
    fsync_file(tmp)
    mode = _final_modes.pop(os.fspath(tmp), None)
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, path)
    fsync_folder(Path(path).parent)


def discard(tmp: str | os.PathLike | None) -> None:
    """Remove a temporary file (best effort)."""
    if tmp is not None:
        _final_modes.pop(os.fspath(tmp), None)
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None], *, suffix: str = ".part",
                 keep: Iterable = ()) -> Path:
    """Run ``write(temp_path)``, then move the finished file over ``path``.

    ``keep``: files the write must not replace besides the store (the file being
    imported). On any failure (or exception, including a cancel) the temporary file is
    removed and ``path`` is left exactly as it was. Returns ``path``.
    """
    path = Path(path)
    keep = list(keep)
    tmp = create_temp(path, suffix, keep)
    try:
        with private_tmp.tracking(tmp):
            write(tmp)
            commit(tmp, path, keep)
    except BaseException:
        discard(tmp)
        raise
    return path


def save_workbook(wb, path: str | os.PathLike) -> None:
    """``wb.save(path)`` for an openpyxl workbook, but a failure (a full disk) leaves no
    half-open ZIP behind: openpyxl's own save would leave one whose ``__del__`` tries to
    finish it later and prints a traceback. Raises the ``OSError`` of the failure."""
    import datetime as _dt
    from zipfile import ZIP_DEFLATED, ZipFile

    from openpyxl.writer.excel import ExcelWriter

    if wb.write_only and not wb.worksheets:
        wb.create_sheet()
    archive = ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True)
    try:
        wb.properties.modified = _dt.datetime.now(tz=_dt.timezone.utc).replace(tzinfo=None)
        ExcelWriter(wb, archive).save()
    except BaseException:
        fp, archive.fp = archive.fp, None  # close() (also from __del__) now does nothing
        if fp is not None:
            with contextlib.suppress(OSError):
                fp.close()
        raise
