"""Settings an administrator sets once for every user of a workstation: the site settings file.

The file is an INI file named ``site.ini`` in nkbrief's folder of the system-wide
configuration directory (platformdirs' ``site_config_dir``):

- Linux: ``/etc/xdg/nkbrief/site.ini`` (the first folder of ``$XDG_CONFIG_DIRS`` when set);
- Windows: ``C:\\ProgramData\\nkbrief\\site.ini``;
- macOS: ``/Library/Application Support/nkbrief/site.ini``.

The environment variable ``NKBRIEF_SITE_CONFIG`` names another file (tests use it). Users
need only read access. Today it holds one setting::

    [pack]
    classification = UNCLASSIFIED//FOR OFFICIAL USE ONLY

the marking a briefing pack gets when the analyst gives none. Without it a pack needs an
explicit marking: nkbrief never assumes one.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from .common import UserError

SITE_ENV = "NKBRIEF_SITE_CONFIG"
APP_NAME = "nkbrief"


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
