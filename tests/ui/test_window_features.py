"""Window plumbing: persistence, clipboard, extension hooks, drops, screenshot, about, timeline modes."""

from __future__ import annotations

import argparse
import sys
import types

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QLabel

from ui import app as app_module
from ui.app import MainWindow

SEED_EVENT = "2026-01-27-srbm-north-of-pyongyang"


def test_column_layout_persists_across_windows(qtbot, small_store):
    w1 = MainWindow(small_store)
    qtbot.addWidget(w1)
    hh = w1.table.horizontalHeader()
    model = w1.table.table_model
    site, name, outcome = (model.column_of(k) for k in ("launch_site", "missile_name", "outcome"))
    w1.table.set_column_visible(outcome, False)
    hh.resizeSection(name, 333)
    hh.moveSection(hh.visualIndex(site), 0)
    w1.timeline.set_y_mode("lanes")
    w1.close()  # saves settings (to the test's private settings folder)
    w2 = MainWindow(small_store)
    qtbot.addWidget(w2)
    hh2 = w2.table.horizontalHeader()
    assert hh2.isSectionHidden(outcome)
    assert hh2.sectionSize(name) == 333
    assert hh2.logicalIndex(0) == site
    assert w2.timeline.y_mode == "lanes"
    w2.close()


def test_settings_go_to_the_private_test_folder(qtbot, small_window, _private_settings):
    import os

    small_window.save_settings()
    found = [f for _, _, fs in os.walk(_private_settings) for f in fs]
    assert any(f.endswith(".ini") for f in found)


def test_column_chooser_never_hides_the_last_column(qtbot, small_window):
    t = small_window.table
    for i in range(1, t.model().columnCount()):
        t.set_column_visible(i, False)
    menu = t.column_menu()
    acts = [a for a in menu.actions() if a.isCheckable()]
    assert acts[0].isChecked() and not acts[0].isEnabled()
    assert all(not a.isChecked() and a.isEnabled() for a in acts[1:])
    t.reset_columns()
    from nkbrief.analysis.filtering import COLUMNS, DEFAULT_COLUMNS

    hidden = [k for i, (k, _) in enumerate(COLUMNS) if t.horizontalHeader().isSectionHidden(i)]
    assert hidden == [k for k, _ in COLUMNS if k not in DEFAULT_COLUMNS]


def test_ctrl_c_copies_selected_rows_as_tsv_in_screen_order(qtbot, small_window, small_events):
    w = small_window
    t = w.table
    hh = t.horizontalHeader()
    m = t.table_model
    for k in ("time_kst", "count", "apogee_km", "outcome", "confirmation", "sources", "distance_km"):
        t.set_column_visible(m.column_of(k), False)
    hh.moveSection(hh.visualIndex(m.column_of("missile_name")), 0)
    w.select_ids([small_events[2]["id"], small_events[9]["id"]])
    t.setFocus()
    qtbot.keyClick(t, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    text = QApplication.clipboard().text()
    assert text.splitlines() == [
        "Name\tDate\tClass\tSite",
        "Hwasong-14\t2017-07-04\tICBM\tPanghyon",
        "\t2026-03-14\tunknown\t",
    ]


def test_feature_modules_install_and_add_docks(qtbot, small_store, monkeypatch):
    calls = []
    mod = types.ModuleType("fake_feature")

    def install(window):
        calls.append(window)
        assert {"File", "Edit", "View", "Help"} <= set(window.menus)
        window.fake_dock = window.add_dock(QLabel("timing"), "Timing view")

    mod.install = install
    monkeypatch.setitem(sys.modules, "fake_feature", mod)
    monkeypatch.setattr(app_module, "FEATURE_MODULES", ["fake_feature"])
    w = MainWindow(small_store)
    qtbot.addWidget(w)
    assert calls == [w]
    assert w.fake_dock.objectName() == "dock_timing-view"
    assert w.fake_dock.toggleViewAction() in w.menus["View"].actions()
    assert w.toolbar is not None and w.timeline is not None and w.detail is not None
    assert w.visible_event_ids() == list(small_store.events_frame()["id"])
    w.close()


def _drag_enter(w, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    ev = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier)
    w.dragEnterEvent(ev)
    return ev, mime


def test_drops_go_to_import_files_only_when_installed(qtbot, small_store, tmp_path):
    w = MainWindow(small_store, install_features=False)  # no import dialog: no import_files
    qtbot.addWidget(w)
    f = tmp_path / "launches.csv"
    f.write_text("date\n", encoding="utf-8")
    ev, _ = _drag_enter(w, [str(f)])
    assert not ev.isAccepted()
    got = []
    w.import_files = got.extend
    ev, mime = _drag_enter(w, [str(f)])
    assert ev.isAccepted()
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    w.dropEvent(drop)
    assert got == [str(f)]
    w.close()


def test_reload_keeps_filter_sort_and_selection(qtbot, small_window, small_events):
    w = small_window
    w.filter_bar.set_classes({"ICBM", "SRBM"})
    w.table.sortByColumn(w.table.table_model.column_of("distance_km"), Qt.SortOrder.DescendingOrder)
    w.select_ids([small_events[3]["id"]])
    before = w.visible_event_ids()
    w.reload()
    assert w.visible_event_ids() == before
    assert w.selection.ids == (small_events[3]["id"],)
    assert w.table.selected_ids() == [small_events[3]["id"]]


def test_store_changes_from_elsewhere_reload_the_window(qtbot, small_window, small_events):
    w = small_window
    eid = small_events[5]["id"]
    w.store.update_event(eid, {"missile_name": "Hwasong-17 (renamed)"})
    qtbot.waitUntil(lambda: "Hwasong-17 (renamed)" in list(
        w.table.table_model.view.display("missile_name")), timeout=2000)


def test_screenshot_mode_writes_a_1600x1000_png(qtbot, small_store, small_events, tmp_path):
    out = tmp_path / "shot.png"
    args = argparse.Namespace(db=str(small_store.path), screenshot=str(out), select=small_events[8]["id"])
    assert app_module.run_gui(args) == 0
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1600, 1000)
    sys.path.insert(0, str(app_module.Path(__file__).resolve().parents[2] / "scripts"))
    try:
        import screenshot_check
    finally:
        sys.path.pop(0)
    assert screenshot_check.check(out) == []


def test_screenshot_check_flags_blank_images(tmp_path):
    from PIL import Image

    sys.path.insert(0, str(app_module.Path(__file__).resolve().parents[2] / "scripts"))
    try:
        import screenshot_check
    finally:
        sys.path.pop(0)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (1600, 1000), (236, 236, 236)).save(blank)
    probs = screenshot_check.check(blank, (1600, 1000))
    assert any("distinct colours" in p for p in probs) and any("nearly uniform" in p for p in probs)
    assert screenshot_check.main([str(blank)]) == 1
    assert screenshot_check.check(tmp_path / "missing.png") == [f"{tmp_path / 'missing.png'}: no such file"]


def test_screenshot_with_an_unknown_event_fails_cleanly(qtbot, small_store, tmp_path, capsys):
    args = argparse.Namespace(db=str(small_store.path), screenshot=str(tmp_path / "x.png"), select="nope")
    assert app_module.run_gui(args) == 1
    assert "no event with id 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_about_box_shows_data_attribution(qtbot, small_window):
    dlg = small_window.show_about()
    qtbot.addWidget(dlg)
    from PySide6.QtWidgets import QTextBrowser

    body = dlg.findChild(QTextBrowser).toPlainText()
    assert "Natural Earth" in body and "public domain" in body
    assert not dlg.findChild(QTextBrowser).openExternalLinks()
    dlg.close()


def test_export_timeline_png(qtbot, small_window, tmp_path):
    path = small_window.export_timeline_png(str(tmp_path / "tl.png"))
    img = QImage(path)
    assert img.width() > 300 and img.height() > 150


def test_timeline_modes_and_calendar_highlight(qtbot, small_window):
    tl = small_window.timeline
    tl.set_y_mode("lanes")
    from ui.timeline import _LANE_Y

    assert all(tl.ys[i] == _LANE_Y[c] for i, c in enumerate(tl.cls))
    tl.set_y_mode("distance")
    known = np.isfinite(tl.dist)
    assert np.allclose(tl.ys[known], tl.dist[known])
    tl.set_y_mode("log")
    assert np.allclose(tl.ys[known], np.log10(tl.dist[known]))
    with pytest.raises(ValueError):
        tl.set_y_mode("polar")
    def shown_exercises():
        return [e for e in tl.shown_calendar_entries() if e.category == "exercise"]

    assert "exercise" not in tl.calendar_categories and shown_exercises() == []
    tl.set_calendar_highlight({"exercise"})
    assert [e.title for e in shown_exercises()] == ["Freedom Shield 2026"]
    assert shown_exercises()[0].is_band
    tl.set_calendar_highlight(None)
    assert shown_exercises() == []
    tl.calendar_actions["exercise"].setChecked(True)
    assert len(shown_exercises()) == 1


def test_timeline_tooltip_and_hit_test(qtbot, small_window, small_events):
    tl = small_window.timeline
    row = int(np.flatnonzero(tl.ids == small_events[0]["id"])[0])
    assert "1986-05 (month only)" in tl.tooltip_html(row)
    row = int(np.flatnonzero(tl.ids == small_events[4]["id"])[0])
    html = tl.tooltip_html(row)
    assert "2019-07-25" in html and "600–690 km" in html and "KN-23" in html
    far = tl.vb.mapViewToScene(QPointF(tl.vb.viewRange()[0][0], tl.vb.viewRange()[1][1]))
    assert tl.hit_test(far) is None
    assert tl.hit_test(tl.scene_pos_of(row)) == row


def test_ctrl_f_focuses_the_search(qtbot, small_window):
    small_window.table.setFocus()
    qtbot.keyClick(small_window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert small_window.filter_bar.search.hasFocus()


def test_invalid_date_filter_is_marked_and_ignored(qtbot, small_window):
    fb = small_window.filter_bar
    fb.date_from.setText("2017-13")
    fb._emit()
    assert fb.date_from.property("invalid") is True
    assert "is not a date" in fb.date_from.toolTip()
    assert small_window.table.model().rowCount() == 10
    fb.date_from.setText("2017")
    fb.date_to.setText("2019")
    fb._emit()
    assert small_window.table.model().rowCount() == 3


def test_dock_layout_persists(qtbot, small_store):
    w1 = MainWindow(small_store)
    qtbot.addWidget(w1)
    w1.show()
    w1.detail_dock.hide()
    w1.close()
    w2 = MainWindow(small_store)
    qtbot.addWidget(w2)
    w2.show()
    assert not w2.detail_dock.isVisible()
    w2.reset_layout()
    assert w2.detail_dock.isVisible()
    w2.close()


def test_zoom_to_selection_and_today_marker(qtbot, small_window, small_events):
    import time as _time

    tl = small_window.timeline
    small_window.select_ids([small_events[2]["id"], small_events[3]["id"]])  # both in 2017
    small_window.zoom_selection_action.trigger()
    x0, x1 = tl.x_range()
    rows = tl.selected_rows
    assert x0 < tl.xs[rows].min() and tl.xs[rows].max() < x1
    assert x1 - x0 < 2 * 365 * 86400  # zoomed in from 40 years to about a year
    assert abs(tl.today_line.value() - _time.time()) < 3600
    small_window.zoom_all_action.trigger()
    x0, x1 = tl.x_range()
    assert x0 < tl.x0.min() and x1 > _time.time()


def test_window_on_an_empty_store(qtbot, empty_store):
    w = MainWindow(empty_store)
    qtbot.addWidget(w)
    w.show()
    assert w.status_counts.text() == "0 of 0 events · 0 missiles fired"
    assert w.visible_event_ids() == []
    w.timeline.zoom_to_all()
    w.timeline.zoom_to_selection()
    w.filter_bar.search.setText("anything")
    w.filter_bar._emit()
    assert w.table.model().rowCount() == 0
    w.close()


def test_model_puts_the_event_id_in_the_user_role(qtbot, small_window, small_events):
    m = small_window.table.model()
    ids = [m.data(m.index(r, 0), Qt.ItemDataRole.UserRole) for r in range(m.rowCount())]
    assert ids == [e["id"] for e in sorted(small_events, key=lambda e: (e["date"], e.get("time_kst") or ""))]
    assert m.data(m.index(0, 0), Qt.ItemDataRole.BackgroundRole) is None  # unhandled roles: nothing


def test_time_axis_reads_kst():
    import datetime as dt

    from pyqtgraph.graphicsItems.DateAxisItem import adjustTimestampToPreferredUtcOffset, utcfromtimestamp

    from ui.timeline import Timeline

    tl = Timeline()
    t = dt.datetime(2026, 1, 27, 6, 50, tzinfo=dt.timezone.utc).timestamp()  # 15:50 KST
    shown = utcfromtimestamp(adjustTimestampToPreferredUtcOffset(t, tl.axis_x.utcOffset))
    assert shown.strftime("%Y-%m-%d %H:%M") == "2026-01-27 15:50"
    tl.deleteLater()


def test_timeline_points_are_coloured_by_class_with_rare_classes_on_top(qtbot, seeded_store):
    """One scatter item holds every point: each point has its class's colour, and points are
    drawn common classes first, so a rare class (an ICBM among SRBMs) is never hidden."""
    from nkbrief.model import palette, schema

    w = MainWindow(seeded_store, install_features=False)
    qtbot.addWidget(w)
    tl = w.timeline
    data = tl.points_item.data
    assert len(data) == len(w.frame)
    class_of = {palette.class_color(c).lower(): c for c in schema.MISSILE_CLASSES}
    assert len(class_of) == len(schema.MISSILE_CLASSES)  # a colour names its class
    drawn = [class_of[b.color().name().lower()] for b in data["brush"]]
    # each point has its own event's class colour (compared as (x, y, class) multisets)
    want = sorted((float(x), float(y), c) for x, y, c in zip(tl.xs, tl.ys, tl.cls))
    got = sorted((float(x), float(y), c) for x, y, c in zip(data["x"], data["y"], drawn))
    assert got == want
    counts = {c: drawn.count(c) for c in set(drawn)}
    ranks = [-counts[c] for c in drawn]  # drawing order: most common class first
    assert ranks == sorted(ranks)
    assert drawn[0] == max(counts, key=counts.get) and counts[drawn[-1]] == min(counts.values())
    assert set(drawn) <= set(schema.MISSILE_CLASSES)


def test_dense_timeline_draws_every_point_and_selects_in_bulk(qtbot, empty_store):
    from bench.synth import make_events

    from ui.timeline import DENSE_POINTS

    b = empty_store.new_batch("manual")
    evs = make_events(DENSE_POINTS + 500, seed=5)
    with empty_store.write():
        for ev in evs:
            empty_store.insert_event(ev, b, audit=False)
    w = MainWindow(empty_store, install_features=False)
    qtbot.addWidget(w)
    w.show()
    tl = w.timeline
    assert sum(len(i.data) for i in tl.scatter_items.values()) == len(evs)  # one item per class
    assert len(tl.points_item.data) == 0
    assert all(i.cacheMode() == i.CacheMode.DeviceCoordinateCache
               for i in tl.scatter_items.values() if len(i.data))
    ids = w.visible_event_ids()[::3]
    w.select_ids(ids)
    assert tl.selection_item.count == len(ids)
    assert len(w.table.selected_view_rows()) == len(ids)
    assert f"{len(ids):,} events selected" in w.detail.launch.toPlainText()
    assert "more." in w.detail.launch.toPlainText()
    # filtered down to a few points: one item holds them, the per-class items are emptied
    tl.set_visible_rows(np.arange(40))
    assert len(tl.points_item.data) == 40
    assert sum(len(i.data) for i in tl.scatter_items.values()) == 0
    tl.set_visible_rows(np.arange(len(evs)))
    assert sum(len(i.data) for i in tl.scatter_items.values()) == len(evs) and len(tl.points_item.data) == 0
    w.close()


def test_deferred_features_install_after_the_first_paint(qtbot, small_store, monkeypatch):
    calls = []
    mod = types.ModuleType("late_feature")
    mod.install = lambda window: calls.append(window.table.viewport().isVisible())
    monkeypatch.setitem(sys.modules, "late_feature", mod)
    monkeypatch.setattr(app_module, "FEATURE_MODULES", ["late_feature"])
    w = MainWindow(small_store, defer_features=True)
    qtbot.addWidget(w)
    assert calls == [] and not w.features_installed
    with qtbot.waitSignal(w.features_ready, timeout=3000):
        w.show()
    assert calls == [True] and w.features_installed
    w.close()


def test_the_first_paint_is_signalled_before_the_features_install(qtbot, small_store, monkeypatch):
    order = []
    mod = types.ModuleType("late_feature")
    mod.install = lambda window: order.append("install")
    monkeypatch.setitem(sys.modules, "late_feature", mod)
    monkeypatch.setattr(app_module, "FEATURE_MODULES", ["late_feature"])
    w = MainWindow(small_store, defer_features=True)
    qtbot.addWidget(w)
    w.first_painted.connect(lambda: order.append("painted"))
    with qtbot.waitSignal(w.features_ready, timeout=3000):
        w.show()
    assert order == ["painted", "install"]
    w.close()


def test_start_up_objects_are_frozen_until_the_data_is_first_reloaded(qtbot, small_window):
    """run_gui freezes what start-up made (gc.freeze) after the first paint; the first reload
    hands it back to the collector, so nothing the old data leaves in cycles is kept."""
    import gc

    w = small_window
    assert gc.get_freeze_count() == 0
    gc.disable()  # as ui.launch pauses it for start-up
    try:
        app_module.freeze_start_up_objects(w)
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()  # the first paint starts it again
        w.reload()
        assert gc.get_freeze_count() == 0
        w.reload()  # handed back once; later reloads find nothing connected
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        gc.enable()
