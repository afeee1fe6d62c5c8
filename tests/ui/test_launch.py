"""The launcher opens the window without building the command line when it can, and
reads the window's options exactly as the full command line does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nkbrief.cli import build_parser
from ui.launch import window_args

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv", [
    [], ["--db", "x.sqlite3"], ["--db=x.sqlite3"], ["--db", "a", "--select", "ev-1"],
    ["--screenshot", "/tmp/s.png", "--db", "d", "--select=2026-01-27-x"], ["--db", "a", "--db", "b"],
    ["--db="],
])
def test_window_options_read_as_the_full_parser_reads_them(argv):
    fast = window_args(argv)
    full = build_parser().parse_args(argv)
    assert fast is not None
    for name in ("command", "db", "screenshot", "select"):
        assert getattr(fast, name) == getattr(full, name), name


@pytest.mark.parametrize("argv", [
    ["list"], ["--help"], ["-h"], ["--version"], ["--db"], ["--db", "x", "list"], ["--sel", "x"],
    ["--db", "--select", "x"], ["list", "--json"], ["--unknown"],
])
def test_anything_else_goes_to_the_full_command_line(argv):
    assert window_args(argv) is None


def test_opening_the_window_imports_no_command_module(tmp_path):
    """``main.py`` with no command reaches the window without nkbrief.cli or a command
    module (checked where the window would start: ui.app.run_gui is replaced)."""
    code = (
        "import sys, ui.app\n"
        "ui.app.run_gui = lambda args: print(sorted(m for m in sys.modules if m == 'nkbrief.cli'"
        " or m.startswith('nkbrief.cli')), args.db) or 0\n"
        "from ui.launch import main\n"
        "sys.exit(main(['--db', 'some.sqlite3']))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                       env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[] some.sqlite3"
