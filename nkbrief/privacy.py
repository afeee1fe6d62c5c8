"""Private by default: nkbrief's own folders and files are readable by the analyst alone.

On a workstation shared by several accounts, the store holds the analyst's events, notes,
audit log and import history, and the settings hold recent folders and file names. With the
usual umask 022 a program would create them world-readable. So, on POSIX systems, whatever
the umask:

- the folders nkbrief creates or owns (data, config, cache, log) are ``0700``;
- the store, its ``-wal``/``-shm``/``-journal`` files, the settings, the logs and every
  temporary file are ``0600``;
- an existing folder or file of nkbrief's own that is wider is tightened when nkbrief opens
  it, and the caller is told once (the next open finds nothing to tighten);
- a store the analyst chose elsewhere (``--db``, ``NKBRIEF_DB``) is created ``0600`` when
  nkbrief creates it, but an existing one is left as it is: ``selfcheck`` reports it.

Files the analyst exports (packs, exports, rejected rows) follow the umask like any desktop
program's, except a pack marked above UNCLASSIFIED (:func:`private_marking`).

On Windows the per-user profile folders (``%LOCALAPPDATA%``, ``%APPDATA%``) already carry
per-user ACLs; POSIX mode bits mean nothing there, so nothing here changes them.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from .common import UserError

APP_NAME = "nkbrief"

#: Modes of nkbrief's own folders and files on POSIX systems.
DIR_MODE = 0o700
FILE_MODE = 0o600

#: The SQLite files that sit beside a store and hold its data too.
STORE_SIDE_FILES = ("-wal", "-shm", "-journal")

POSIX = os.name == "posix"


def user_folders() -> dict[str, Path]:
    """nkbrief's own per-user folders: data (the store), config (settings), cache, log."""
    import platformdirs  # imported late: the CLI's --help does not need it

    return {
        "data": Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        "config": Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        "cache": Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        "log": Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    }


def settings_file() -> Path:
    """Where Qt keeps the window's settings (QSettings, IniFormat, user scope).

    ``$XDG_CONFIG_HOME/nkbrief/nkbrief.ini`` on Linux, ``%APPDATA%\\nkbrief\\nkbrief.ini`` on
    Windows: the same file the window writes, named here without importing Qt.
    """
    import platformdirs

    if os.name == "nt":
        return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False, roaming=True)) / f"{APP_NAME}.ini"
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / APP_NAME / f"{APP_NAME}.ini"


def mode_text(mode: int) -> str:
    """``0o644`` -> ``'0644'``."""
    return f"{stat.S_IMODE(mode):04o}"


def others_can_access(path: str | os.PathLike) -> bool:
    """True when a group or other bit is set on ``path`` (POSIX; False elsewhere or if absent)."""
    if not POSIX:
        return False
    try:
        return bool(os.stat(path).st_mode & 0o077)
    except OSError:
        return False


def _tighten(path: Path, private: int, kind: str) -> str | None:
    """Take the group and other bits off ``path``; say what changed, or None."""
    if not POSIX:
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
        return None
    new = stat.S_IMODE(st.st_mode) & private
    os.chmod(path, new)
    return f"{kind} {path} was readable by other users ({mode_text(st.st_mode)}); now {mode_text(new)}"


def tighten_dir(path: str | os.PathLike) -> str | None:
    """Make an existing folder of nkbrief's own ``0700``; return a note when it was wider."""
    return _tighten(Path(path), DIR_MODE, "folder")


def tighten_file(path: str | os.PathLike) -> str | None:
    """Make an existing file of nkbrief's own owner-only; return a note when it was wider."""
    return _tighten(Path(path), FILE_MODE, "file")


def make_private_dir(path: str | os.PathLike, *, tighten: bool = True) -> list[str]:
    """Create ``path`` (and missing parents) so that every folder created is ``0700``.

    With ``tighten`` (nkbrief's own folders), an existing ``path`` that is wider is made
    ``0700`` too; parents that already existed are never changed. Returns the notes of what
    was tightened. Raises ``OSError`` when a folder cannot be created.
    """
    path = Path(path)
    missing: list[Path] = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, DIR_MODE)
        if POSIX:  # the umask may have taken more than asked; it never adds
            os.chmod(folder, DIR_MODE)
    if tighten and not missing:
        note = tighten_dir(path)
        return [note] if note else []
    return []


def create_private_file(path: str | os.PathLike) -> bool:
    """Create an empty ``0600`` file at ``path`` unless something is there; True if created."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, FILE_MODE)
    except FileExistsError:
        return False
    try:
        if POSIX:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def store_files(store: str | os.PathLike) -> list[Path]:
    """The store and the SQLite side files that exist beside it."""
    p = Path(store)
    side = [p.with_name(p.name + s) for s in STORE_SIDE_FILES]
    return [p] + [s for s in side if s.exists()]


def is_own_store(store: str | os.PathLike) -> bool:
    """True when ``store`` sits in nkbrief's own data folder (not a path the analyst chose)."""
    try:
        return Path(store).resolve().parent == user_folders()["data"].resolve()
    except OSError:
        return False


def tighten_store(store: str | os.PathLike) -> list[str]:
    """Tighten a store of nkbrief's own, its side files and its folder; return the notes."""
    notes = [tighten_dir(Path(store).parent)]
    notes += [tighten_file(f) for f in store_files(store)]
    return [n for n in notes if n]


def secure_settings_file(path: str | os.PathLike) -> list[str]:
    """Prepare the settings file: its folder ``0700``, the file ``0600`` (created if absent).

    Creating the file first matters: Qt rewrites settings through a save file that keeps
    the permissions of the file it replaces.
    """
    path = Path(path)
    notes = make_private_dir(path.parent)
    if not create_private_file(path):
        note = tighten_file(path)
        if note:
            notes.append(note)
    return notes


def tighten_own_folders() -> list[str]:
    """Tighten whichever of nkbrief's own folders exist; return the notes."""
    notes = [tighten_dir(p) for p in user_folders().values() if p.is_dir()]
    return [n for n in notes if n]


def private_marking(marking_level: str | None) -> bool:
    """True when a pack with this base marking must be written owner-only.

    Anything but UNCLASSIFIED counts as above it, including text that names no known
    marking (another country's scheme): when in doubt, keep the file private.
    """
    return marking_level != "UNCLASSIFIED"


def describe(path: str | os.PathLike) -> dict:
    """Path, whether it exists, its mode and its owner, for ``selfcheck``."""
    p = Path(path)
    out: dict = {"path": str(p), "exists": False, "mode": None, "owner": None,
                 "others_can_read": False}
    try:
        st = os.stat(p)
    except OSError:
        return out
    out.update(exists=True, mode=mode_text(st.st_mode), owner=_owner(st.st_uid),
               others_can_read=POSIX and bool(st.st_mode & 0o044))
    return out


def _owner(uid: int) -> str:
    try:
        import pwd
    except ImportError:  # Windows: owners are ACL principals, not uids
        return ""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)

# ------------------------------------------------------------------ site settings
# Settings an administrator sets once for every user of a workstation: the site settings file.
#
# The file is an INI file named ``site.ini`` in nkbrief's folder of the system-wide
# configuration directory (platformdirs' ``site_config_dir``):
#
# - Linux: ``/etc/xdg/nkbrief/site.ini`` (the first folder of ``$XDG_CONFIG_DIRS`` when set);
# - Windows: ``C:\ProgramData\nkbrief\site.ini``;
# - macOS: ``/Library/Application Support/nkbrief/site.ini``.
#
# The environment variable ``NKBRIEF_SITE_CONFIG`` names another file (tests use it). Users
# need only read access. Today it holds one setting::
#
#     [pack]
#     classification = UNCLASSIFIED//FOR OFFICIAL USE ONLY
#
# the marking a briefing pack gets when the analyst gives none. Without it a pack needs an
# explicit marking: nkbrief never assumes one.

SITE_ENV = "NKBRIEF_SITE_CONFIG"


def site_config_path() -> Path:
    """Where the site settings file is read from (it need not exist)."""
    env = os.environ.get(SITE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs  # imported late, as in nkbrief.privacy: `--help` does not need it

    return Path(platformdirs.site_config_dir(APP_NAME, appauthor=False)) / "site.ini"


def read_site_settings(path: Path | None = None) -> configparser.ConfigParser:
    """The site settings (empty when there is no file). A file that exists but cannot be read
    or parsed raises :class:`UserError` naming it: a broken default is not silently ignored."""
    import configparser  # Deferred (start-up): read when a pack is made, not before the window paints

    path = site_config_path() if path is None else path
    cp = configparser.ConfigParser(interpolation=None)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return cp
    except IsADirectoryError:
        raise UserError(f"site settings {path} is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read the site settings {path}: {getattr(e, 'strerror', None) or e}") from None
    try:
        cp.read_string(text, source=str(path))
    except configparser.Error as e:
        first = str(e).splitlines()[0]
        raise UserError(f"the site settings {path} are not a valid settings file ({first})") from None
    return cp


def default_marking(path: Path | None = None) -> str | None:
    """The administrator's default pack marking (``[pack] classification``), or None."""
    value = read_site_settings(path).get("pack", "classification", fallback="").strip()
    return value or None
