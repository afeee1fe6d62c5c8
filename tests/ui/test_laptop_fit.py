"""The window fits a laptop (issue 16): 1280x720 at 100% (and so 1920x1080 at 150%), with
every toolbar action, filter control and detail tab on screen; real screenshots under Xvfb
at 1280x720, 1366x768, 1920x1080 and 1920x1080 at 150% have exactly those sizes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QTabWidget, QToolButton

from ui import undo
from ui.app import MainWindow

ROOT = Path(__file__).resolve().parents[2]
SEED = "2026-01-27-srbm-north-of-pyongyang"


def _inside(window, widget) -> bool:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


def test_minimum_size_fits_1280x720(qtbot, small_store):
    w = MainWindow(small_store, restore=False)
    qtbot.addWidget(w)
    hint = w.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720, hint
    w.close()


def test_at_1280x720_every_control_is_visible_enabled_and_inside(qtbot, small_store, small_events):
    w = MainWindow(small_store, restore=False)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    assert (w.width(), w.height()) == (1280, 720)
    eid = small_events[2]["id"]
    w.select_ids([eid])
    # something to undo and something to redo, so both buttons are live
    for text in ("a", "b"):
        undo.push(w.undo_stack, undo.EditEventCommand(w.store, eid, {"notes": text}))
    w.undo_stack.undo()
    qtbot.wait(50)

    actions = [a for a in w.toolbar.actions() if not a.isSeparator()]
    assert len(actions) >= 9  # import, add, edit, delete, undo, redo, zoom, export, pack
    for a in actions:
        b = w.toolbar.widgetForAction(a)
        assert b is not None and b.isVisible(), a.text()
        assert a.isEnabled(), a.text()
        assert _inside(w, b), f"{a.text()} at {b.geometry()} is outside the window"
    ext = w.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert ext is None or not ext.isVisible()  # nothing pushed into the overflow menu

    bar = w.filter_bar
    controls = [bar.search, bar.date_from, bar.date_to, bar.classes_button, bar.outcome, bar.confirmation,
                bar.has_notes, bar.clear_button]
    for c in controls:
        assert c.isVisible() and c.isEnabled() and _inside(w, c), c.objectName() or type(c).__name__
        assert c.width() >= min(c.minimumSizeHint().width(), 60)  # not squeezed to nothing
    ext = w.filter_toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert ext is None or not ext.isVisible()

    tabs = w.detail.findChild(QTabWidget)
    assert tabs is not None and tabs.count() >= 5
    tb = tabs.tabBar()
    assert tb.isVisible() and _inside(w, tb)
    for i in range(tabs.count()):
        r = tb.tabRect(i)
        assert tabs.isTabEnabled(i), tabs.tabText(i)
        assert tb.rect().contains(r), f"tab {tabs.tabText(i)!r} is cut off"
        assert w.rect().contains(QRect(tb.mapTo(w, r.topLeft()), r.size())), tabs.tabText(i)

    # the key facts fit across the table at this width
    t = w.table
    hh = t.horizontalHeader()
    for key in ("date", "time_kst", "missile_class", "missile_name", "count", "distance_km", "launch_site",
                "outcome", "confirmation"):
        i = t.table_model.column_of(key)
        assert not hh.isSectionHidden(i)
        assert hh.sectionViewportPosition(i) + hh.sectionSize(i) <= t.viewport().width() + 2, key
    # the timeline's key collapsed into its menu rather than widening the window
    assert w.timeline.key_button.isVisible() and _inside(w, w.timeline.key_button)
    w.close()


SIZES = [("1280x720", "1", (1280, 720)), ("1366x768", "1", (1366, 768)), ("1920x1080", "1", (1920, 1080)),
         ("1280x720", "1.5", (1920, 1080))]  # the last: a 1920x1080 screen at 150%


def test_screenshots_under_xvfb_have_the_asked_sizes(tmp_path):
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        pytest.skip("xvfb-run is not installed: the real-window screenshots need an X server")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import screenshot_check
    finally:
        sys.path.pop(0)
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", NKBRIEF_DB=str(tmp_path / "store.sqlite3"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    lines = []
    outs = []
    for size, scale, _ in SIZES:
        out = tmp_path / f"window-{size}-at-{scale}.png"
        outs.append(out)
        lines.append(f"QT_SCALE_FACTOR={scale} {sys.executable} main.py --screenshot {out} --size {size} "
                     f"--select {SEED} || exit 1")
    r = subprocess.run([xvfb, "-a", "-s", "-screen 0 1920x1080x24", "sh", "-c", "\n".join(lines)], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    for out, (_, _, expected) in zip(outs, SIZES):
        assert screenshot_check.check(out, expected) == [], out.name
    keep = os.environ.get("NKBRIEF_SCREENSHOT_DIR")  # to look at them: copy them out
    if keep:
        for out in outs:
            shutil.copy(out, Path(keep) / out.name)
