"""The nkbrief launcher: headless commands, or the window when no command is given.

Qt is imported only when the window is wanted, so ``nkbrief list`` starts quickly and works
on a machine without a display. The other way round, a plain ``nkbrief`` (or one with
only the window's own options) opens the window without building the command line's
parser, which imports every command module: none of that is needed before the window
paints.
"""

from __future__ import annotations

import gc
import sys

#: The options the window reads (nkbrief/cli.py defines them, with their help).
WINDOW_OPTIONS = ("--db", "--screenshot", "--select")


def window_args(argv: list[str]):
    """The parsed arguments when ``argv`` holds nothing but the window's own options,
    each with a value (``--db PATH`` or ``--db=PATH``); None for anything else (a command,
    --help, a typo, an abbreviation), which the full command line then handles."""
    from types import SimpleNamespace

    values = dict.fromkeys(name[2:] for name in WINDOW_OPTIONS)
    i = 0
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        if name not in WINDOW_OPTIONS:
            return None
        if not eq:
            i += 1
            if i == len(argv) or argv[i].startswith("-"):
                return None  # no value: the full parser says so
            value = argv[i]
        values[name[2:]] = value
        i += 1
    return SimpleNamespace(command=None, **values)


def _run_window(args) -> int:
    # The collector is paused from here to the window's first paint, where ui.app's
    # freeze_start_up_objects starts it again: start-up makes about a million objects
    # (numpy, pandas, Qt, pyqtgraph, the window and its data) and frees almost none, so each
    # collection before the paint only walked them (≈ 60-100 ms of CPU to the first paint,
    # measured 2026-12-07). Whatever happens, the state it had is back when the window closes.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        # Deferred (start-up): Qt and the window load only when no command was given (see above).
        try:
            from ui.app import run_gui
        except ImportError as e:
            sys.stderr.write(f"nkbrief: the window cannot start ({e}); headless commands still work "
                             "(nkbrief --help)\n")
            return 1
        return run_gui(args)
    finally:
        if was_enabled:
            gc.enable()


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = window_args(argv)
    if args is not None:
        return _run_window(args)
    from nkbrief.cli import main as cli_main  # Deferred (start-up): the launcher itself stays tiny

    return cli_main(argv, gui=_run_window)


if __name__ == "__main__":
    sys.exit(main())
