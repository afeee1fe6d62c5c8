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


def _launched(code: str) -> str:
    """What ``code`` (which calls ui.launch.main with ui.app.run_gui replaced) prints, run in
    a fresh process offscreen; it must exit cleanly."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                       env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_opening_the_window_imports_no_command_module(tmp_path):
    """``main.py`` with no command reaches the window without nkbrief.cli or a command
    module (checked where the window would start: ui.app.run_gui is replaced)."""
    code = (
        "import sys, ui.app\n"
        "ui.app.run_gui = lambda args: print(sorted(m for m in sys.modules if m == 'nkbrief.cli'"
        " or m.startswith('nkbrief.cli')), args.db) or 0\n"
        "from ui.launch import main\n"
        "sys.exit(main(['--db', 'some.sqlite3']))\n")
    assert _launched(code) == "[] some.sqlite3"


def test_the_collector_is_paused_for_start_up_and_restored_after(tmp_path):
    """From ``main.py`` to the window, the garbage collector is off (ui.app's first-paint
    handler starts it; checked where the window would start: ui.app.run_gui is replaced); when
    the window returns, the collector is as it was, also when the window fails."""
    code = (
        "import gc, sys, ui.app\n"
        "seen = []\n"
        "def fake(args):\n"
        "    seen.append(gc.isenabled())\n"
        "    if args.db == 'fail': raise RuntimeError('window failed')\n"
        "    return 0\n"
        "ui.app.run_gui = fake\n"
        "from ui.launch import main\n"
        "main(['--db', 'x.sqlite3'])\n"
        "after = gc.isenabled()\n"
        "try: main(['--db', 'fail'])\n"
        "except RuntimeError: pass\n"
        "gc.disable(); main(['--db', 'x.sqlite3']); off_stays_off = not gc.isenabled()\n"
        "print(seen, after, gc.isenabled() is False and off_stays_off)\n")
    assert _launched(code) == "[False, False, False] True True"


def test_the_window_paints_on_its_own_thread(monkeypatch):
    """run_gui keeps Qt's raster work on the painting thread (QT_NO_GUI_THREADPOOL), and
    leaves a value the analyst set alone."""
    from ui import app as app_module

    monkeypatch.delenv("QT_NO_GUI_THREADPOOL", raising=False)
    app_module.paint_on_the_window_thread()
    assert __import__("os").environ["QT_NO_GUI_THREADPOOL"] == "1"
    monkeypatch.setenv("QT_NO_GUI_THREADPOOL", "yes")
    app_module.paint_on_the_window_thread()
    assert __import__("os").environ["QT_NO_GUI_THREADPOOL"] == "yes"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the threads from /proc")
def test_the_first_frame_starts_no_paint_threads(tmp_path):
    """``main.py`` to its first paint (the timeline's grid, the calendar bands, the scroll
    bars) without Qt starting its pool of paint threads."""
    code = (
        "import os, sys, ui.app\n"
        "def trace(stage):\n"
        "    if stage == 'first_paint':\n"
        "        names = [open(f'/proc/self/task/{t}/comm').read().strip() for t in os.listdir('/proc/self/task')]\n"
        "        print(sorted(names), flush=True)\n"
        "        os._exit(0)\n"
        "ui.app._startup_trace = trace\n"
        "from ui.launch import main\n"
        "sys.exit(main([]))\n")
    env = {k: v for k, v in __import__("os").environ.items()
           if not k.startswith("NKBRIEF_") and k != "QT_NO_GUI_THREADPOOL"}
    env.update(QT_QPA_PLATFORM="offscreen", NKBRIEF_DB=str(tmp_path / "s.sqlite3"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    names = r.stdout.strip()
    assert names.startswith("["), r.stdout
    assert "Thread (pooled)" not in names, names

