"""The nkbrief launcher: headless commands, or the window when no command is given.

Qt is imported only when the window is wanted, so ``nkbrief list`` starts quickly and works
on a machine without a display.
"""

from __future__ import annotations

import sys


def _run_window(args) -> int:
    # Deferred (start-up): Qt and the window load only when no command was given (see above).
    try:
        from ui.app import run_gui
    except ImportError as e:
        sys.stderr.write(f"nkbrief: the window cannot start ({e}); headless commands still work "
                         "(nkbrief --help)\n")
        return 1
    return run_gui(args)


def main(argv=None) -> int:
    from nkbrief.cli import main as cli_main  # Deferred (start-up): the launcher itself stays tiny

    return cli_main(argv, gui=_run_window)


if __name__ == "__main__":
    sys.exit(main())
