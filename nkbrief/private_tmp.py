"""nkbrief's private folder for temporary files, and the clean-up of a killed run's leftovers.

Temporary data (openpyxl's write-only sheet streams, which hold the whole dataset) never
goes to the shared system temp folder: it goes to ``<user cache folder>/nkbrief/tmp``,
mode 0700, each file 0600, named after the process that made it. A file whose process is
gone is a leftover of a killed run and is removed by :func:`sweep` at the next start.

A finished file must be renamed into place on its own file system, so the partial file of
an atomic write sits beside its destination (:mod:`nkbrief.atomic`), still mode 0600 until
it is complete. While it exists, a small marker in the private folder names it; a marker
left by a killed run lets :func:`sweep` remove that partial file too.

This module imports nothing else from the project.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
#: Suffixes of partial files a marker may name (nothing else is ever removed through one).
PARTIAL_SUFFIXES = (".part", ".tmp", ".nkbrief-partial")
_MARKER = ".pending"

_made: Path | None = None


class PrivateFolderError(OSError):
    """The private folder cannot be made safe (wrong owner, a symlink, not a folder)."""


def location() -> Path:
    """Where the private temp folder is (it may not exist yet)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("nkbrief", appauthor=False)) / "tmp"


def folder() -> Path:
    """The private temp folder, created 0700 when missing; refuses one that is a symlink,
    not a folder, or owned by someone else (its mode is set back to 0700)."""
    global _made
    base = location()
    if _made == base:
        return base
    base.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(base, DIR_MODE)
    st = os.lstat(base)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise PrivateFolderError(f"the private temporary folder {base} is not a plain folder")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise PrivateFolderError(f"the private temporary folder {base} belongs to another user")
    if stat.S_IMODE(st.st_mode) != DIR_MODE:
        os.chmod(base, DIR_MODE)
    _made = base
    return base


def _tag() -> str:
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def new_file(suffix: str = "", prefix: str = "") -> Path:
    """Create an empty private temporary file (0600) and return its path."""
    base = folder()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        p = base / f"{_tag()}-{prefix}{suffix}"
        try:
            fd = os.open(p, flags, FILE_MODE)
        except FileExistsError:
            continue
        os.close(fd)
        return p
    raise FileExistsError(f"cannot find a free temporary name in {base}")  # pragma: no cover


@contextlib.contextmanager
def tracking(partial: Path) -> Iterator[None]:
    """While the block runs, a marker names ``partial`` (a file beside its destination) so
    that a killed run's partial file is removed at the next start. Best effort: without a
    private folder the write still goes ahead."""
    marker = None
    with contextlib.suppress(OSError):
        marker = folder() / f"{_tag()}{_MARKER}"
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(os.fspath(Path(partial).absolute()))
    try:
        yield
    finally:
        if marker is not None:
            with contextlib.suppress(OSError):
                os.unlink(marker)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def sweep() -> int:
    """Remove what killed runs left: their files in the private folder, and the partial
    files their markers name. Returns how many files were removed. Never raises."""
    removed = 0
    try:
        if not location().is_dir():  # nothing to sweep; creates nothing (selfcheck writes nothing)
            return 0
        base = folder()
        entries = list(os.scandir(base))
    except OSError:
        return 0
    for e in entries:
        pid_text = e.name.split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            if e.name.endswith(_MARKER):
                target = Path(Path(e.path).read_text(encoding="utf-8", errors="surrogateescape"))
                if target.name.startswith(".") and target.name.endswith(PARTIAL_SUFFIXES):
                    with contextlib.suppress(FileNotFoundError):
                        if stat.S_ISREG(os.lstat(target).st_mode):
                            os.unlink(target)
                            removed += 1
            if e.is_dir(follow_symlinks=False):
                continue
            os.unlink(e.path)
            removed += 1
    return removed


def use_for_openpyxl() -> None:
    """Point openpyxl's write-only temporary sheet files at the private folder (0600), and
    keep its own clean-up at exit."""
    from openpyxl.worksheet import _writer

    if getattr(_writer.create_temporary_file, "_nkbrief", False):
        return

    def create_temporary_file(suffix: str = "") -> str:
        name = os.fspath(new_file(suffix, "openpyxl"))
        _writer.ALL_TEMP_FILES.append(name)
        return name

    create_temporary_file._nkbrief = True  # type: ignore[attr-defined]
    _writer.create_temporary_file = create_temporary_file


def discard_openpyxl_files(wb) -> None:
    """Close and remove the temporary sheet files of a write-only workbook whose save
    failed or was cancelled (best effort)."""
    if wb is None:
        return
    for ws in getattr(wb, "_sheets", []):
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        with contextlib.suppress(Exception):
            rows = getattr(ws, "_rows", None)
            if rows is not None:
                rows.close()
        with contextlib.suppress(Exception):
            writer.xf.close()
        with contextlib.suppress(Exception):
            writer.cleanup()
