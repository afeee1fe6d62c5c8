"""The one guard every write of a user file goes through.

Export, the briefing pack, rejected rows, the calendar export and the window's save dialogs
all write through :mod:`nkbrief.atomic`, which calls :func:`check` before any work and again
just before the finished file is moved into place. It refuses:

- the open store, its ``-wal``, ``-journal`` and ``-shm`` files (registered by
  ``Store.open``), and any file passed as ``keep`` (the file being imported), compared by
  inode (``os.path.samefile``), so ``dir/../dir/./store.sqlite3`` or a hard link is caught;
- a destination that is not a regular file: a folder, a symbolic link, a FIFO, a device
  or a socket (each named);
- a destination whose folder does not exist or cannot be written.

Every refusal is a :class:`WriteRefused` with one line for the analyst. File names in it
have control characters escaped. This module imports only :mod:`nkbrief.model.rules`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .common import shown

#: Files a store keeps beside itself.
STORE_COMPANIONS = ("", "-wal", "-journal", "-shm")

_protected: dict[str, Path] = {}  # str(path) -> the store file it belongs to
_open_count: dict[str, int] = {}  # store -> how many connections have it open


class WriteRefused(Exception):
    """A destination that must not be written, phrased for the analyst (one line)."""


def protect_store(path: str | os.PathLike) -> None:
    """Refuse writes over this store and its companion files from now on."""
    p = Path(path)
    _open_count[os.fspath(p)] = _open_count.get(os.fspath(p), 0) + 1
    for suffix in STORE_COMPANIONS:
        _protected[os.fspath(p) + suffix] = p


def release_store(path: str | os.PathLike) -> None:
    """One connection to the store was closed; when it was the last, stop protecting it."""
    key = os.fspath(Path(path))
    n = _open_count.get(key, 0) - 1
    if n > 0:
        _open_count[key] = n
        return
    _open_count.pop(key, None)
    for suffix in STORE_COMPANIONS:
        _protected.pop(key + suffix, None)


def _same(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check(path: str | os.PathLike, keep: Iterable[str | os.PathLike] = (), *, folder: bool = True) -> Path:
    """Refuse (raise :class:`WriteRefused`) unless ``path`` may be replaced by a new
    regular file. ``keep``: other files that must not be written (the import's input).
    ``folder``: also check that the destination folder exists and is writable. Returns
    ``path`` as a Path."""
    p = Path(path)
    name = shown(p)
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise WriteRefused(f"cannot write {name}: {e.strerror or e}") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise WriteRefused(f"cannot write {name}: it is a symbolic link; choose the file itself "
                               "or another name")
        if stat.S_ISDIR(st.st_mode):
            raise WriteRefused(f"cannot write {name}: it is a folder; choose a file name")
        for test, what in _KINDS:
            if test(st.st_mode):
                raise WriteRefused(f"cannot write {name}: it is {what}, not a regular file")
        for other, store in list(_protected.items()):
            if _same(p, other):
                what = "the nkbrief store" if other == os.fspath(store) else \
                    f"a file of the nkbrief store {shown(store)}"
                raise WriteRefused(f"cannot write {name}: it is {what}; choose another file")
        for k in keep:
            if _same(p, k):
                raise WriteRefused(f"cannot write {name}: it is the file being imported; "
                                   "choose another file")
    if folder:
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            raise WriteRefused(f"cannot write {name}: the folder {shown(parent)} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise WriteRefused(f"cannot write {name}: the folder {shown(parent)} is not writable "
                               "(permission denied)")
    return p


def write_error(path: Path, e: OSError) -> str:
    """An OSError while writing ``path`` as one line naming ``path`` (never the temporary
    file): a full disk as a full disk."""
    import errno

    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"cannot write {shown(path)}: the disk is full; the file was not changed"
    return f"cannot write {shown(path)}: {e.strerror or e}"
