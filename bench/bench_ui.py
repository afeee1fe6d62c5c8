"""Window benchmarks on synthetic events, each as a ratio against a baseline from the same run.

- ``table_sort_100k``: sorting through the table model (with its view attached) on several
  columns, both directions, from a freshly loaded model, against ``DataFrame.sort_values``
  of the same columns.
- ``table_filter_100k``: a series of filters through the model (model reset included),
  from a fresh model, against the same boolean masks built with pandas on the frame.
- ``selection_sync_20k``: 20k rows in 200 runs selected in the table, followed by the
  Selection, the timeline highlight and the detail pane, against one merged-range
  ``select()`` of the same rows on the bare view.
- ``window_rss_100k``: peak RSS of the window holding 100k events, against a bare
  QMainWindow holding the same frame (each in its own process).
- ``startup``: process start to the first paint of the window on the bundled data, against
  the stack's floor (a script that imports numpy, pandas and pyqtgraph and shows an empty
  PlotWidget). Each run in a fresh process; best of several.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_core import best_of

ROOT = Path(__file__).resolve().parent.parent
_CACHE: dict = {}


def _n(quick: bool) -> int:
    return 20_000 if quick else 100_000


def _store_path(n: int) -> Path:
    """A synthetic store of ``n`` events, built once per process."""
    key = ("store", n)
    if key not in _CACHE:
        from bench.synth import make_store

        d = Path(tempfile.mkdtemp(prefix="nkbrief-bench-ui-"))
        st = make_store(d / f"synth-{n}.sqlite3", n)
        st.close()
        _CACHE[key] = d / f"synth-{n}.sqlite3"
    return _CACHE[key]


def _frame(n: int):
    key = ("frame", n)
    if key not in _CACHE:
        from nkbrief.store import Store

        with Store.open(_store_path(n), seed=False) as st:
            _CACHE[key] = st.events_frame()
    return _CACHE[key]


def _qapp():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _shown_table(quick: bool):
    """The synthetic frame, and a shown event table whose model the benches drive."""
    app = _qapp()
    from ui.event_table import EventTable

    frame = _frame(_n(quick))
    table = EventTable()
    table.resize(1000, 600)
    table.show()
    app.processEvents()
    return frame, table, table.table_model


SORT_COLUMNS = ["distance_km", "missile_name", "launch_site", "missile_class", "count", "date"]


def table_sort_100k(quick: bool) -> dict:
    """Model sort (view attached) on six columns, both ways, cold caches; vs pandas sort_values."""
    from PySide6.QtCore import Qt

    frame, table, m = _shown_table(quick)
    app = _qapp()

    def through_model():
        m.set_frame(frame)  # fresh view: sort keys are built inside the timing
        t = time.perf_counter()
        for key in SORT_COLUMNS:
            col = m.column_of(key)
            m.sort(col, Qt.SortOrder.AscendingOrder)
            m.sort(col, Qt.SortOrder.DescendingOrder)
        app.processEvents()
        return time.perf_counter() - t

    def through_pandas():
        for key in SORT_COLUMNS:
            frame.sort_values(key, kind="stable", na_position="last")
            frame.sort_values(key, ascending=False, kind="stable", na_position="last")

    repeat = 2 if quick else 3
    value = min(through_model() for _ in range(repeat))
    baseline = best_of(through_pandas, repeat)
    table.close()
    return {"value": value, "baseline": baseline, "goal": 2.0, "n": len(frame)}


def _filter_specs():
    from nkbrief.analysis.filtering import FilterSpec

    return [
        FilterSpec(classes=frozenset({"SRBM", "ICBM"})),
        FilterSpec(date_from="2000-01-01", date_to="2010-12-31"),
        FilterSpec(text="kusong"),
        FilterSpec(text="kusong", classes=frozenset({"SRBM", "ICBM"}), date_from="2000-01-01"),
        FilterSpec(has_notes=True),
        FilterSpec(),
    ]


def _pandas_mask(frame, spec):
    import numpy as np

    m = np.ones(len(frame), dtype=bool)
    if spec.classes is not None:
        m &= frame["missile_class"].isin(list(spec.classes)).to_numpy()
    if spec.date_from:
        m &= (frame["date"] >= spec.date_from).to_numpy()
    if spec.date_to:
        m &= (frame["date"] <= spec.date_to).to_numpy()
    if spec.text:
        hit = np.zeros(len(frame), dtype=bool)
        for c in ("missile_name", "launch_site", "description", "notes"):
            hit |= frame[c].str.contains(spec.text, case=False, regex=False).fillna(False).to_numpy(dtype=bool)
        m &= hit
    if spec.has_notes:
        m &= frame["notes"].fillna("").str.strip().ne("").to_numpy()
    return frame[m]


def table_filter_100k(quick: bool) -> dict:
    """Six filters through the model (reset included), cold; vs the same pandas masks."""
    frame, table, m = _shown_table(quick)
    app = _qapp()
    specs = _filter_specs()

    def through_model():
        m.set_frame(frame)
        t = time.perf_counter()
        for spec in specs:
            m.set_filter(spec)
        app.processEvents()
        return time.perf_counter() - t

    def through_pandas():
        for spec in specs:
            _pandas_mask(frame, spec)

    # the model and pandas agree on what each filter keeps
    m.set_frame(frame)
    for spec in specs[:4]:
        m.set_filter(spec)
        assert m.rowCount() == len(_pandas_mask(frame, spec)), spec
    repeat = 2 if quick else 3
    value = min(through_model() for _ in range(repeat))
    baseline = best_of(through_pandas, repeat)
    table.close()
    return {"value": value, "baseline": baseline, "goal": 2.0, "n": len(frame)}


def selection_sync_20k(quick: bool) -> dict:
    """20k rows in 200 runs: table -> Selection -> timeline -> detail, vs one bare merged-range select."""
    app = _qapp()
    import numpy as np
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    from nkbrief.analysis.filtering import merge_runs
    from nkbrief.store import Store
    from ui.app import MainWindow
    from ui.event_table import EventTable

    n = _n(quick)
    k = 20_000 if not quick else 4_000
    store = Store.open(_store_path(n), seed=False)
    win = MainWindow(store, install_features=False, restore=False)
    win.resize(1600, 1000)
    win.show()
    app.processEvents()
    bare = EventTable()
    bare.table_model.set_frame(win.frame)
    bare.resize(1000, 600)
    bare.show()
    app.processEvents()
    rng = np.random.default_rng(3)
    run = k // 200
    slots = np.arange(0, n - run, n // 250)
    starts = np.sort(rng.choice(slots, 200, replace=False))
    rows = np.unique(np.concatenate([np.arange(s, s + run) for s in starts]))
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows

    def selection_for(table):
        sel = QItemSelection()
        mm = table.table_model
        last = mm.columnCount() - 1
        for a, b in merge_runs(rows):
            sel.select(mm.index(a, 0), mm.index(b, last))
        return sel

    def through_window():
        win.selection.clear()
        app.processEvents()
        sel = selection_for(win.table)
        t = time.perf_counter()
        win.table.selectionModel().select(sel, flags)  # the user's selection, as the view reports it
        app.processEvents()
        dt = time.perf_counter() - t
        assert len(win.selection) == rows.size and win.timeline.selected_rows.size == rows.size
        assert win.detail.ids and len(win.detail.ids) == rows.size
        return dt

    def bare_select():
        bare.selectionModel().clearSelection()
        app.processEvents()
        sel = selection_for(bare)
        t = time.perf_counter()
        bare.selectionModel().select(sel, flags)
        app.processEvents()
        return time.perf_counter() - t

    repeat = 3 if quick else 5
    value = min(through_window() for _ in range(repeat))
    baseline = min(bare_select() for _ in range(repeat))
    win.close()
    bare.close()
    store.close()
    return {"value": value, "baseline": baseline, "goal": 10.0, "n": n, "selected": int(rows.size)}


# ------------------------------------------------------------------ subprocesses
_RSS_CHILD = r"""
import os, resource, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, sys.argv[1])
import ui.style
from PySide6.QtCore import QSettings
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[4])
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication([])
from nkbrief.store import Store
store = Store.open(sys.argv[2], seed=False)
if sys.argv[3] == "window":
    from ui.app import MainWindow
    w = MainWindow(store, install_features=False, restore=False)
else:
    import pyqtgraph
    frame = store.events_frame()
    w = QMainWindow(); w.setCentralWidget(QLabel(f"{len(frame)} events"))
w.resize(1600, 1000); w.show()
for _ in range(5):
    app.processEvents()
w.grab()
# VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child would report the
# parent's peak when that is higher.
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
print(int(hwm[0].split()[1]) * 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def _run_child(code: str, *args: str, env: dict | None = None) -> str:
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, **(env or {})), cwd=ROOT)
    if r.returncode != 0:
        raise RuntimeError(f"child failed ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
    return r.stdout.strip().splitlines()[-1]


def window_rss_100k(quick: bool) -> dict:
    """Peak RSS (bytes) of the full window on 100k events vs a bare window holding the frame."""
    path = str(_store_path(_n(quick)))
    with tempfile.TemporaryDirectory() as settings_dir:
        value = float(_run_child(_RSS_CHILD, str(ROOT), path, "window", settings_dir))
        baseline = float(_run_child(_RSS_CHILD, str(ROOT), path, "bare", settings_dir))
    return {"value": value, "baseline": baseline, "goal": 2.0, "n": _n(quick), "unit": "bytes"}


_STARTUP_WINDOW = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
import ui.app as ua  # first, as main.py imports it: the app's own import order is part of start-up
from PySide6.QtCore import QObject, QEvent, QSettings, QTimer
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[3])
app = ua._ensure_app()
from nkbrief.store import Store
w = ua.MainWindow(Store.open(sys.argv[2]), defer_features=True)  # as run_gui opens it
class Painted(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, done)
        return False
def done():
    # the first paint has been delivered: report the wall clock and leave without teardown
    assert w.table.model().rowCount() > 0
    sys.stdout.write(repr(time.time()) + "\n"); sys.stdout.flush(); os._exit(0)
f = Painted(); w.table.viewport().installEventFilter(f)
w.resize(1600, 1000); w.show()
app.exec()
"""

_STARTUP_FLOOR = r"""
import os, sys, time
import numpy, pandas, pyqtgraph as pg
from PySide6.QtCore import QObject, QEvent, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
w = pg.PlotWidget()
class Painted(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, done)
        return False
def done():
    sys.stdout.write(repr(time.time()) + "\n"); sys.stdout.flush(); os._exit(0)
f = Painted(); w.viewport().installEventFilter(f)
w.resize(1600, 1000); w.show()
app.exec()
"""


def _timed_child(code: str, *args: str) -> float:
    """Seconds from spawning a fresh interpreter to its first paint (the child reports the
    wall-clock time of the paint; process teardown is not start-up and is not counted)."""
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    t = time.time()
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                       timeout=300, env=env, cwd=ROOT)
    if r.returncode != 0:
        raise RuntimeError(f"child failed ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
    return float(r.stdout.strip().splitlines()[-1]) - t


def startup(quick: bool) -> dict:
    """Process start to the first paint of the window on the bundled data vs the stack floor."""
    from nkbrief.store import Store

    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "bundled.sqlite3"
        Store.open(db).close()  # seeding is first-run work, not start-up
        settings_dir = str(Path(d) / "settings")
        repeat = 3 if quick else 5
        _timed_child(_STARTUP_FLOOR)  # warm the file cache for both
        value = min(_timed_child(_STARTUP_WINDOW, str(ROOT), str(db), settings_dir) for _ in range(repeat))
        baseline = min(_timed_child(_STARTUP_FLOOR) for _ in range(repeat))
    return {"value": value, "baseline": baseline, "goal": 1.3}


def _cleanup() -> None:
    for key, path in list(_CACHE.items()):
        if key[0] == "store":
            shutil.rmtree(Path(path).parent, ignore_errors=True)


import atexit  # noqa: E402

atexit.register(_cleanup)

BENCHMARKS = {
    "table_sort_100k": table_sort_100k,
    "table_filter_100k": table_filter_100k,
    "selection_sync_20k": selection_sync_20k,
    "window_rss_100k": window_rss_100k,
    "startup": startup,
}
