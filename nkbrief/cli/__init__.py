"""Command-line entry point: headless commands, or the window when no command is given.

Every command exits non-zero with one clear line on stderr (never a traceback) when it
fails. Commands live in ``nkbrief/cli/``; each module there has ``register(sub)``.
"""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import sys
from collections.abc import Callable, Sequence

from .. import __version__

#: Modules that add sub-commands; each has ``register(subparsers)``.
#:
#: Deferred (start-up): all of them are imported to build the parser, also when the window
#: starts (ui/launch.py parses the command line first), so each imports what its command needs
#: inside the command, and this module opens the store the same way. Measured on 2026-12-07
#: (median of 9 cold runs): importing the jobs, the importer and the timing analysis up front
#: adds about 0.27 s to every start (0.35 s -> 0.62 s); the pack's sheet writers another 0.6 s.
COMMAND_MODULES = [
    "nkbrief.cli.core",
    "nkbrief.cli.pack",
    "nkbrief.cli.timing",
    "nkbrief.cli.selfcheck",
    "nkbrief.cli.importing",
    "nkbrief.cli.edit",
    "nkbrief.cli.admin",
    "nkbrief.cli.sync",
]


class CliError(Exception):
    """A failure to report as one line on stderr; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def say(message: object) -> None:
    """Write one message line to stderr: ``nkbrief: MESSAGE``, with control characters and
    lone surrogates in it (a file name holding a newline or an ANSI escape) escaped, so one
    line stays one line and cannot be spoofed."""
    from ..common import shown

    sys.stderr.write(f"nkbrief: {shown(message)}\n")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        say(message)
        raise SystemExit(2)


def _window_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720); anything else is a one-line argparse error."""
    w, sep, h = text.lower().partition("x")
    if not (sep and w.isdigit() and h.isdigit() and 200 <= int(w) <= 10000 and 200 <= int(h) <= 10000):
        raise argparse.ArgumentTypeError(f"'{text}' is not a window size (WxH, e.g. 1280x720)")
    return int(w), int(h)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="nkbrief", description="Briefing workstation for North Korean missile launches. "
                "With no command, opens the window.")
    p.add_argument("--version", action="version", version=f"nkbrief {__version__}")
    p.add_argument("--db", metavar="PATH", help="the store file, or a team store's postgresql:// URL or "
                   "service=NAME (default: $NKBRIEF_DB, else the user-data folder)")
    p.add_argument("--screenshot", metavar="PATH", help="render the window offscreen at "
                   "1600x1000 (or --size) to a PNG and exit")
    p.add_argument("--size", metavar="WxH", type=_window_size, help="with --screenshot: render the window "
                   "at exactly this size, e.g. 1280x720")
    p.add_argument("--select", metavar="ID", help="with the window: select this event first")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return p


def _add_db(parser: argparse.ArgumentParser) -> None:
    """Let --db also follow the command (``nkbrief list --db X``)."""
    parser.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                        help="the store file, or a team store's postgresql:// URL or service=NAME")


def open_store(args, *, seed: bool = True):
    from ..store import Store

    store = Store.open(getattr(args, "db", None), seed=seed)
    for note in store.privacy_notes:  # said once: the next open finds nothing to tighten
        sys.stderr.write(f"nkbrief: note: {note}\n")
    return store


def main(argv: Sequence[str] | None = None, gui: Callable[[argparse.Namespace], int] | None = None) -> int:
    """Run a command. With no command, call ``gui(args)`` (the window; see ui/launch.py)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from .. import private_tmp

    private_tmp.sweep()  # what a killed run left in the private temp folder, and its partial files
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if gui is None:
            sys.stderr.write("nkbrief: no command given (see nkbrief --help); "
                             "the window opens through main.py or the nkbrief launcher\n")
            return 2
        return gui(args)
    from ..store import StoreError

    try:
        return int(args.func(args) or 0)
    except CliError as e:
        say(e)
        return e.code
    except StoreError as e:
        say(e)
        return 1
    except sqlite3.DatabaseError as e:
        say(f"the store could not be read: {e}")
        return 1
    except OSError as e:
        import errno

        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            say(f"the disk is full{': ' + str(e.filename) if e.filename else ''}; nothing was written")
            return 1
        where = f" {e.filename}" if getattr(e, "filename", None) else ""
        say(f"{e.strerror or e}{':' if where else ''}{where}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
