"""Atomic file writes: a temporary file beside the destination, then one ``os.replace``.

Every writer of user files (the dataset export, the calendar export, the briefing pack)
goes through here, so they all behave alike:

- the temporary file is hidden (``.NAME.<random><suffix>``) in the destination folder, so
  the final rename never crosses file systems;
- it is created with mode ``0o666`` and the kernel applies the process umask (and any
  default ACL of the folder), so the finished file gets the permissions any program saving
  a new file would give it, not ``tempfile.mkstemp``'s private ``0o600``; when the
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
from collections.abc import Callable
from pathlib import Path

#: Mode asked for when creating a file; the umask takes away what the user does not allow.
NEW_FILE_MODE = 0o666


def temp_name(path: Path, suffix: str = ".part") -> Path:
    """A fresh hidden name beside ``path``: ``.NAME.<8 hex digits><suffix>``."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")


def create_temp(path: str | os.PathLike, suffix: str = ".part", *, mode: int | None = None) -> Path:
    """Create an empty temporary file beside ``path`` and return its path.

    Its mode is that of a new file (``0o666`` less the umask), or the permission bits of
    ``path`` when it already exists; with ``mode`` (e.g. ``0o600`` for a pack marked above
    UNCLASSIFIED) exactly that, whatever the umask or the file it replaces. Raises
    ``OSError`` (e.g. ``PermissionError``) when the folder cannot be written.
    """
    path = Path(path)
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
        keep = mode
        if keep is None:
            with contextlib.suppress(FileNotFoundError):
                keep = stat.S_IMODE(os.stat(path).st_mode)
        if keep is not None:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, keep)
            else:  # pragma: no cover - Windows: only the read-only bit exists
                os.chmod(tmp, keep)
    except OSError:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
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


def commit(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Flush ``tmp`` to disk and move it over ``path`` in one step (``os.replace``)."""
    fsync_file(tmp)
    os.replace(tmp, path)
    fsync_folder(Path(path).parent)


def discard(tmp: str | os.PathLike | None) -> None:
    """Remove a temporary file (best effort)."""
    if tmp is not None:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None], *, suffix: str = ".part") -> Path:
    """Run ``write(temp_path)``, then move the finished file over ``path``.

    On any failure (or exception, including a cancel) the temporary file is removed and
    ``path`` is left exactly as it was. Returns ``path``.
    """
    path = Path(path)
    tmp = create_temp(path, suffix)
    try:
        write(tmp)
        commit(tmp, path)
    except BaseException:
        discard(tmp)
        raise
    return path
