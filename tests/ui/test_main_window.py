"""The main window: table, timeline and detail pane follow one selection, both ways."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

SEED_EVENT = "2026-01-27-srbm-north-of-pyongyang"


def _row_of(window, event_id):
    rows = window.table.table_model.view.view_rows_for_ids([event_id])
    assert rows.size == 1, f"{event_id} is not shown in the table"
    return int(rows[0])


def _click_row(qtbot, table, row, modifier=Qt.KeyboardModifier.NoModifier):
    idx = table.model().index(row, 3)
    table.scrollTo(idx)
    rect = table.visualRect(idx)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def _plot_point(timeline, frame_row) -> QPoint:
    scene = timeline.scene_pos_of(frame_row)
    return timeline.plot.mapFromScene(scene)


def _drag(widget, start: QPoint, end: QPoint, modifiers=Qt.KeyboardModifier.NoModifier):
    """Press, move in steps and release the left button, with modifiers held throughout.

    The steps are spaced in time: pyqtgraph drops mouse moves closer than its rate limit.
    """
    left = Qt.MouseButton.LeftButton

    def send(kind, pos, button, buttons):
        p = QPointF(pos)
        ev = QMouseEvent(kind, p, QPointF(widget.mapToGlobal(pos)), button, buttons, modifiers)
        QApplication.sendEvent(widget, ev)

    send(QEvent.Type.MouseButtonPress, start, left, left)
    for t in np.linspace(0, 1, 8)[1:]:
        p = QPoint(int(start.x() + (end.x() - start.x()) * t), int(start.y() + (end.y() - start.y()) * t))
        QTest.qWait(15)
        send(QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left)
    send(QEvent.Type.MouseButtonRelease, end, left, Qt.MouseButton.NoButton)


def test_click_table_row_highlights_timeline_point_and_shows_detail(qtbot, window):
    row = _row_of(window, SEED_EVENT)
    _click_row(qtbot, window.table, row)
    assert window.selection.ids == (SEED_EVENT,)
    assert window.timeline.highlighted_ids() == [SEED_EVENT]
    cur = window.timeline.current_row
    assert cur is not None and window.timeline.ids[cur] == SEED_EVENT
    assert window.detail.current == SEED_EVENT
    text = window.detail.launch.toPlainText()
    assert "2026-01-27 15:50 KST" in text and "2026-01-27 06:50 UTC" in text
    assert "~350 km" in text and "~80 km" in text       # the news reports' "~350 km", qualifier kept
    prov = window.detail.provenance.toPlainText()         # the compiler's notes, on the Sources tab
    assert prov.startswith("Date basis:") and "five missiles" in prov
    assert window.detail.notes_edit.toPlainText() == ""   # Notes holds the analyst's own only


def test_ctrl_click_rows_builds_a_multi_selection_with_a_summary(qtbot, window):
    a, b = _row_of(window, SEED_EVENT), _row_of(window, SEED_EVENT) - 1
    _click_row(qtbot, window.table, a)
    _click_row(qtbot, window.table, b, Qt.KeyboardModifier.ControlModifier)
    assert len(window.selection) == 2
    assert sorted(window.timeline.highlighted_ids()) == sorted(window.selection.ids)
    assert "2 events selected" in window.detail.launch.toPlainText()


def test_click_timeline_point_selects_and_scrolls_to_the_row(qtbot, window):
    # An early event: the table starts scrolled to the top, so pick one near the bottom... then
    # scroll the table away from it first, so the click must bring it into view.
    frame = window.frame
    target = frame.index[frame["id"] == SEED_EVENT][0]
    window.table.scrollToTop()
    row = _row_of(window, SEED_EVENT)
    assert not window.table.viewport().rect().intersects(window.table.visualRect(window.table.model().index(row, 0)))
    pos = _plot_point(window.timeline, target)
    assert window.timeline.hit_test(window.timeline.plot.mapToScene(pos)) == target
    qtbot.mouseClick(window.timeline.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert window.selection.ids == (SEED_EVENT,)
    assert [int(r) for r in window.table.selected_view_rows()] == [row]
    rect = window.table.visualRect(window.table.model().index(row, 0))
    assert window.table.viewport().rect().intersects(rect), "the selected row was not scrolled into view"
    assert window.detail.current == SEED_EVENT


def test_shift_drag_on_timeline_selects_every_event_in_the_window(qtbot, window):
    tl = window.timeline
    tl.zoom_to_all()
    qtbot.wait(10)
    kst = pd.Timedelta(hours=9)

    def x_of(date):
        t = (pd.Timestamp(date) - kst).value / 1e9
        return tl.plot.mapFromScene(tl.vb.mapViewToScene(QPointF(t, tl.vb.viewRange()[1][0] * 0.5
                                                                + tl.vb.viewRange()[1][1] * 0.5)))

    # 2017 had launches from February to November, none in the weeks around New Year.
    start, end = x_of("2016-12-24"), x_of("2018-01-08")
    _drag(tl.plot.viewport(), start, end, Qt.KeyboardModifier.ShiftModifier)
    expected = set(window.frame.loc[window.frame["date"].str.startswith("2017"), "id"])
    assert expected
    assert set(window.selection.ids) == expected
    assert set(window.table.selected_ids()) == expected
    assert set(tl.highlighted_ids()) == expected


def test_filter_shrinks_table_and_timeline(qtbot, window):
    total = window.table.model().rowCount()
    qtbot.keyClicks(window.filter_bar.search, "hwasong")
    frame = window.frame
    hay = (frame["missile_name"].fillna("") + " " + frame["launch_site"].fillna("") + " "
           + frame["description"].fillna("") + " " + frame["notes"].fillna("")).str.lower()
    expected = set(frame.loc[hay.str.contains("hwasong", regex=False), "id"])
    assert 0 < len(expected) < total
    qtbot.waitUntil(lambda: window.table.model().rowCount() == len(expected), timeout=2000)
    assert set(window.visible_event_ids()) == expected
    shown = len(window.timeline.points_item.data)
    assert shown == len(expected)
    assert set(window.timeline.ids[window.timeline.visible]) == expected
    assert window.status_counts.text().startswith(f"{len(expected)} of {total} events")
    # classes narrow it further, in both views
    window.filter_bar.set_classes({"ICBM"})
    icbm = expected & set(frame.loc[frame["missile_class"] == "ICBM", "id"])
    assert window.table.model().rowCount() == len(icbm)
    assert len(window.timeline.points_item.data) == len(icbm)
    window.filter_bar.clear()
    assert window.table.model().rowCount() == total


def test_filter_hides_selected_events_without_dropping_them(qtbot, window):
    window.select_ids([SEED_EVENT])
    window.filter_bar.set_classes({"ICBM"})
    assert window.selection.ids == (SEED_EVENT,)  # still selected, only hidden
    assert window.table.selected_ids() == []
    assert window.timeline.highlighted_ids() == []
    assert "1 selected (1 hidden)" in window.status_counts.text()
    window.filter_bar.clear()
    assert window.table.selected_ids() == [SEED_EVENT]
    assert window.timeline.highlighted_ids() == [SEED_EVENT]


def test_edit_notes_saves_to_store_with_audit_and_undo_reverts(qtbot, window):
    store = window.store
    window.select_ids([SEED_EVENT])
    before = store.get_event(SEED_EVENT)["notes"]
    d = window.detail
    d.tabs.setCurrentIndex(4)
    d.notes_edit.setFocus()
    d.notes_edit.moveCursor(d.notes_edit.textCursor().MoveOperation.End)
    qtbot.keyClicks(d.notes_edit, " Checked against JCS release.")
    assert d.save_notes_button.isEnabled()
    qtbot.mouseClick(d.save_notes_button, Qt.MouseButton.LeftButton)
    after = store.get_event(SEED_EVENT)["notes"]
    assert after == (before or "") + " Checked against JCS release."
    audit = store.audit_frame(record_id=SEED_EVENT)
    last = audit.iloc[-1]
    assert (last["action"], last["field"], last["new_value"]) == ("update", "notes", after)
    assert last["old_value"] == before
    # Undo through the keyboard, as the analyst would
    window.table.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert store.get_event(SEED_EVENT)["notes"] == before
    assert store.audit_frame(record_id=SEED_EVENT).iloc[-1]["new_value"] == before
    qtbot.waitUntil(lambda: d.notes_edit.toPlainText() == (before or ""), timeout=2000)
    # and redo
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert store.get_event(SEED_EVENT)["notes"] == after


def test_context_tab_for_the_seed_event_counts_days_to_the_party_congress(qtbot, window):
    window.select_ids([SEED_EVENT])
    text = window.detail.context.toPlainText()
    assert "23 days before the 9th Party Congress (opened 2026-02-19)" in text
    assert "Since previous launch" in text
    # the 2026-01-04 launch is the previous one, 23 days earlier
    import re

    assert re.search(r"Since previous launch\s+23 days\b", text)
    statements = text.split("Stakeholder statements")[1]
    for actor in ("Pyongyang", "Seoul", "Washington", "Tokyo", "Beijing"):
        assert actor in statements


def test_selection_object_drives_table_with_merged_ranges_and_no_echo(qtbot, window):
    ids = window.visible_event_ids()
    chosen = ids[5:40] + ids[60:61] + ids[100:130]
    seen = []
    window.selection.on_change(lambda sel, src: seen.append(src))
    window.select_ids(chosen)
    assert seen == [None], "the table echoed the selection back"
    got = window.table.selected_view_rows()
    assert list(got) == [*range(5, 40), 60, *range(100, 130)]
    assert len(window.table.selectionModel().selection()) == 3  # three ranges, not 66 rows
    assert sorted(window.timeline.highlighted_ids()) == sorted(chosen)


def test_sort_keeps_the_selection(qtbot, window):
    window.select_ids([SEED_EVENT])
    col = window.table.table_model.column_of("distance_km")
    window.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    row = _row_of(window, SEED_EVENT)
    assert [int(r) for r in window.table.selected_view_rows()] == [row]
    assert window.selection.ids == (SEED_EVENT,)
    d = window.table.table_model.view.sort_key("distance_km")[window.table.table_model.view.rows]
    finite = d[np.isfinite(d)]
    assert np.all(np.diff(finite) <= 0) and np.isnan(d[len(finite):]).all()


def test_map_tab_draws_site_and_range_ring(qtbot, window):
    window.select_ids([SEED_EVENT])
    m = window.detail.map
    assert m.plot is None  # the map is built when first shown, not at start-up
    window.detail.tabs.setCurrentWidget(m)
    assert m.ring_radii_km == [350.0]
    assert len(m.sites.data) == 1
    ring = m.rings[0]
    xs, ys = ring.getData()
    from nkbrief.analysis import geo

    ev = window.store.get_event(SEED_EVENT)
    d = geo.haversine_km(ev["latitude"], ev["longitude"], ys, xs)
    assert np.allclose(d, 350.0, rtol=1e-3)
    assert len(m.coast.getData()[0]) > 1000  # the coastline is drawn


def test_month_only_event_states_its_precision(qtbot, small_window, small_events):
    small_window.select_ids([small_events[0]["id"]])
    text = small_window.detail.launch.toPlainText()
    assert "May 1986 (month only)" in text
    tl = small_window.timeline
    row = int(np.flatnonzero(tl.ids == small_events[0]["id"])[0])
    assert not tl.precise[row]
    assert tl.x1[row] - tl.x0[row] == 31 * 86400  # drawn as the whole month


def test_unknown_distance_events_sit_on_the_visible_baseline_lane(qtbot, small_window):
    tl = small_window.timeline
    unknown = ~np.isfinite(tl.dist)
    assert unknown.any()
    assert np.all(tl.ys[unknown] == tl.lane_y)
    lo, hi = tl.vb.viewRange()[1]
    assert lo < tl.lane_y < hi
    tl.set_y_mode("distance")
    assert np.all(tl.ys[unknown] == tl.lane_y) and tl.lane_y < 0
    lo, hi = tl.vb.viewRange()[1]
    assert lo < tl.lane_y < hi


def test_sources_copy_links_and_never_open_them(qtbot, window, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda *a: opened.append(a) or True)
    window.select_ids([SEED_EVENT])
    d = window.detail
    d.tabs.setCurrentIndex(3)
    assert d.sources.count() >= 1
    d.sources.setCurrentRow(0)
    qtbot.mouseClick(d.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == d.sources.item(0).text()
    item = d.sources.item(0)
    qtbot.mouseDClick(d.sources.viewport(), Qt.MouseButton.LeftButton, pos=d.sources.visualItemRect(item).center())
    assert opened == []


def test_change_history_names_where_an_event_came_from(qtbot, small_window, tmp_path):
    """Imports record one batch-level audit row, so the history reads an imported event's
    provenance from its batch: the file, the batch and the file's sha256."""
    from nkbrief.importing.importer import apply_import, read_file

    p = tmp_path / "colleague.csv"
    p.write_text("Date,Type,Launch site\n2025-05-08,SRBM,Wonsan\n", encoding="utf-8")
    pf = read_file(p)
    res = apply_import(small_window.store, pf)
    qtbot.waitUntil(lambda: small_window.store.has_event("2025-05-08-srbm-wonsan"), timeout=5000)
    small_window.select_ids(["2025-05-08-srbm-wonsan"])
    qtbot.waitUntil(lambda: small_window.detail.current == "2025-05-08-srbm-wonsan", timeout=5000)
    text = small_window.detail.history.toPlainText()
    assert f"imported from colleague.csv (batch {res.batch_id}, sha256 {pf.sha256[:12]}…)" in text
    origin = small_window.store.event_origin("2025-05-08-srbm-wonsan")
    assert origin["kind"] == "import" and origin["file_name"] == "colleague.csv"
    assert small_window.store.event_origin("no-such-event") is None


def test_change_history_of_a_seeded_event_says_so(qtbot, window):
    window.select_ids([SEED_EVENT])
    assert "loaded from the bundled dataset" in window.detail.history.toPlainText()
