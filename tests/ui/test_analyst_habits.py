"""Analyst habits (issue 16): column filters, chips, search syntax, Esc, kept selection,
undo reselection, import undo on Ctrl+Z, F1 help, context menu, Ctrl+A/Ctrl+C anywhere."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QApplication

from nkbrief.analysis.filtering import COLUMNS


def _col(key: str) -> int:
    return [k for k, _ in COLUMNS].index(key)


def _classes(w) -> set[str]:
    f = w.frame.set_index("id")
    return {f.loc[i, "missile_class"] for i in w.visible_event_ids()}


def _names(w) -> list[str]:
    f = w.frame.set_index("id")
    return sorted(f.loc[i, "missile_name"] or "" for i in w.visible_event_ids())


def test_column_value_filter_and_numeric_range(qtbot, small_window):
    from ui.column_filters import open_column_filter

    w = small_window
    dlg = open_column_filter(w, _col("missile_class"))
    labels = [dlg.list.item(i).text() for i in range(dlg.list.count())]
    assert labels[0] == "ICBM  (3)" and "unknown  (1)" in labels  # values with counts, most first
    dlg.find.setText("rb")  # narrows the list, as Excel's search box
    assert [dlg.list.item(i).text() for i in range(dlg.list.count()) if not dlg.list.item(i).isHidden()] \
        == ["SRBM  (3)", "IRBM  (1)"]
    dlg.set_checked({"ICBM", "IRBM"})
    dlg.apply()
    assert _classes(w) == {"ICBM", "IRBM"}
    assert "Class: ICBM, IRBM" in w.filter_chips.texts()
    assert w.table.table_model.headerData(_col("missile_class"), Qt.Orientation.Horizontal,
                                          Qt.ItemDataRole.DecorationRole) is not None  # funnel mark

    rng = open_column_filter(w, _col("distance_km"))
    rng.low.setText("abc")
    rng.low.textEdited.emit("abc")
    assert rng.problem.text() == "'abc' is not a number" and not rng.ok_button.isEnabled()
    rng.low.setText("950")
    rng.high.setText("900")
    rng.high.textEdited.emit("900")
    assert rng.problem.text() == "the range ends (900) below where it starts (950)"
    rng.high.setText("2,000")
    rng.high.textEdited.emit("2,000")
    assert rng.ok_button.isEnabled()
    rng.apply()
    assert _names(w) == ["Hwasong-15", "Hwasong-17 / 화성-17"]
    assert "Distance (km): 950 – 2000" in w.filter_chips.texts()
    # the header's right-click menu offers the column's filter
    menu = w.table.header_menu(_col("outcome"))
    assert menu.actions()[0].text() == "Filter Outcome…"
    menu.deleteLater()


def test_filter_chips_each_remove_their_own_filter(qtbot, small_window, small_events):
    w = small_window
    bar = w.filter_bar
    assert w.filter_chips.isHidden()  # nothing to show
    bar.search.setText("hwasong")
    bar._emit()
    bar.exclude_value("launch_site", "Sunan")
    bar.outcome.setCurrentIndex(bar.outcome.findData("success"))
    assert w.filter_chips.isVisible()
    assert w.filter_chips.texts() == ["Search: hwasong", "Outcome: Success", "Site: not Sunan"]
    assert _names(w) == ["Hwasong-10 (Musudan)", "Hwasong-14", "Hwasong-15"]
    chip = next(c for c in w.filter_chips.chips if c.full_text == "Site: not Sunan")
    qtbot.mouseClick(chip.close_button, Qt.MouseButton.LeftButton)
    assert w.filter_chips.texts() == ["Search: hwasong", "Outcome: Success"]
    chip = next(c for c in w.filter_chips.chips if c.full_text == "Search: hwasong")
    qtbot.mouseClick(chip.close_button, Qt.MouseButton.LeftButton)
    assert bar.search.text() == "" and w.filter_chips.texts() == ["Outcome: Success"]
    assert len(w.visible_event_ids()) == 3
    qtbot.mouseClick(w.filter_chips.chips[0].close_button, Qt.MouseButton.LeftButton)
    assert w.filter_chips.isHidden() and len(w.visible_event_ids()) == len(small_events)


def test_search_syntax_and_problems_said_in_the_bar(qtbot, small_window, small_events):
    w = small_window
    bar = w.filter_bar
    qtbot.keyClicks(bar.search, "class:ICBM OR class:IRBM -musudan")
    qtbot.waitUntil(lambda: _classes(w) == {"ICBM"}, timeout=2000)
    assert len(w.visible_event_ids()) == 3
    bar.search.setText('"north of pyongyang"')
    bar._emit()
    assert w.visible_event_ids() == [small_events[8]["id"]]
    bar.search.setText(f"id:{small_events[3]['id']}")
    bar._emit()
    assert w.visible_event_ids() == [small_events[3]["id"]]
    bar.search.setText("colour:red")
    bar._emit()  # cannot be read: said in words, not applied
    assert len(w.visible_event_ids()) == len(small_events)
    assert w.filter_chips.problem.isVisible()
    assert w.filter_chips.problem.toolTip().startswith("⚠ Search: unknown search field 'colour:'")
    assert w.filter_chips.problem.toolTip().endswith("search not applied")
    bar.search.clear()
    bar.date_from.setText("2020")
    bar.date_to.setText("2017")
    bar._emit()
    assert len(w.visible_event_ids()) == len(small_events)  # a reversed range is not applied
    assert "the range ends (2017-12-31) before it starts (2020-01-01) — dates not applied" \
        in w.filter_chips.problem.toolTip()
    bar.date_to.setText("2017-13")
    bar._emit()
    assert "To: '2017-13' is not a date" in w.filter_chips.problem.toolTip()
    bar.date_to.setText("2022")
    bar._emit()
    assert not w.filter_chips.problem.isVisible()
    assert w.visible_event_ids() == [small_events[5]["id"]]  # 2020-01-01 to 2022-12-31


def test_empty_result_shows_the_no_match_overlay(qtbot, small_window, small_events):
    w = small_window
    w.filter_bar.search.setText("no such launch anywhere")
    w.filter_bar._emit()
    assert w.visible_event_ids() == []
    assert w.empty_overlay.isVisible() and w.empty_overlay.text() == "No events match — Clear filters"
    qtbot.mouseClick(w.empty_overlay.clear_button, Qt.MouseButton.LeftButton)
    assert len(w.visible_event_ids()) == len(small_events) and not w.empty_overlay.isVisible()


def test_esc_clears_the_search_first_then_the_selection(qtbot, small_window, small_events):
    w = small_window
    w.select_ids([small_events[2]["id"]])
    bar = w.filter_bar
    bar.search.setFocus()
    qtbot.keyClicks(bar.search, "hwasong")
    qtbot.keyClick(bar.search, Qt.Key.Key_Escape)
    assert bar.search.text() == "" and w.selection.ids == (small_events[2]["id"],)
    qtbot.keyClick(bar.search, Qt.Key.Key_Escape)
    assert w.selection.ids == ()


def test_selection_hidden_by_a_filter_stays_and_comes_back(qtbot, small_window, small_events):
    w = small_window
    ids = [small_events[i]["id"] for i in (2, 3, 4)]  # ICBM, ICBM, SRBM
    w.select_ids(ids)
    w.filter_bar.set_classes({"ICBM"})
    assert w.selection.ids == tuple(ids)
    assert sorted(w.table.selected_ids()) == sorted(ids[:2])
    assert w.status_counts.text().endswith("3 selected (1 hidden)")
    # Ctrl+click on another shown row adds to it and keeps the hidden one
    from tests.ui.test_main_window import _click_row

    row = int(w.table.table_model.view.view_rows_for_ids([small_events[5]["id"]])[0])
    _click_row(qtbot, w.table, row, Qt.KeyboardModifier.ControlModifier)
    assert set(w.selection.ids) == {*ids, small_events[5]["id"]}
    w.filter_bar.clear()
    assert sorted(w.table.selected_ids()) == sorted([*ids, small_events[5]["id"]])
    assert w.status_counts.text().endswith("4 selected")


def test_undo_and_redo_reselect_what_they_touched(qtbot, small_window, small_events):
    from ui import undo

    w = small_window
    a, b = small_events[1]["id"], small_events[6]["id"]
    w.select_ids([a, b])
    assert w.delete_events(confirm=False)
    assert w.selection.ids == ()
    w.select_ids([small_events[0]["id"]])
    qtbot.keyClick(w.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert set(w.selection.ids) == {a, b} and sorted(w.table.selected_ids()) == sorted([a, b])
    w.undo_stack.redo()
    assert w.selection.ids == ()
    w.undo_stack.undo()
    # an edit: undo selects the edited event even after the selection moved on
    undo.push(w.undo_stack, undo.EditEventCommand(w.store, a, {"notes": "checked"}))
    w.select_ids([small_events[0]["id"]])
    w.undo_stack.undo()
    assert w.selection.ids == (a,) and w.store.get_event(a)["notes"] == ""
    w.undo_stack.redo()
    assert w.selection.ids == (a,) and w.store.get_event(a)["notes"] == "checked"
    # the toolbar's Redo keeps a short label; the full text is in its tooltip
    assert w.redo_tool_action.text() == "Redo" and w.undo_tool_action.toolTip().startswith("Undo Edit notes")


def test_import_selects_its_events_and_ctrl_z_undoes_it(qtbot, small_window, tmp_path):
    from ui.import_actions import open_import_dialog

    w = small_window
    p = tmp_path / "colleague.csv"
    p.write_text("Date,Type,Number,Launch site\n2026-05-01,SRBM,3,Sinpo\n2026-06-02,cruise,2,Nampo\n",
                 encoding="utf-8")
    dlg = open_import_dialog(w, [str(p)])
    qtbot.waitUntil(lambda: dlg.parsed is not None and dlg.import_button.isEnabled(), timeout=20000)
    with qtbot.waitSignal(dlg.import_finished, timeout=20000):
        qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    new = {"2026-05-01-srbm-sinpo", "2026-06-02-cruise-nampo"}
    qtbot.waitUntil(lambda: set(w.selection.ids) == new, timeout=5000)
    assert w.undo_stack.undoText() == "Import colleague.csv"
    dlg.close()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=2000)
    w.table.setFocus()
    qtbot.keyClick(w.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not any(w.store.has_event(i) for i in new)
    assert w.selection.ids == ()
    w.undo_stack.redo()
    assert all(w.store.has_event(i) for i in new) and set(w.selection.ids) == new
    # the same file again adds nothing: the dialog says so and records no batch
    batches = len(w.store.batches_frame())
    dlg2 = open_import_dialog(w, [str(p)])
    qtbot.waitUntil(lambda: dlg2.plan is not None, timeout=20000)
    assert dlg2.import_button.text() == "Nothing to import" and not dlg2.import_button.isEnabled()
    assert "already in the store" in dlg2.import_button.toolTip()
    qtbot.mouseClick(dlg2.import_button, Qt.MouseButton.LeftButton)  # disabled: does nothing
    assert len(w.store.batches_frame()) == batches
    dlg2.close()
    QThreadPool.globalInstance().waitForDone(20000)


def test_batch_filter_shows_one_import(qtbot, small_window, tmp_path):
    from nkbrief.importing import importer
    from ui.habits import filter_to_batch

    w = small_window
    p = tmp_path / "one.csv"
    p.write_text("Date,Type,Launch site\n2026-07-01,SRBM,Wonsan\n", encoding="utf-8")
    res = importer.apply_import(w.store, importer.read_file(p))
    w.reload()
    ids = filter_to_batch(w, res.batch_id, "one.csv")
    assert ids == ["2026-07-01-srbm-wonsan"] and w.visible_event_ids() == ids
    assert w.filter_chips.texts() == [f"From import batch {res.batch_id} (one.csv)"]


def test_f1_opens_the_offline_help_and_it_searches(qtbot, small_window):
    w = small_window
    w.activateWindow()
    w.table.setFocus()
    qtbot.keyClick(w.table, Qt.Key.Key_F1)
    help_window = w.help_window
    qtbot.waitExposed(help_window)
    titles = help_window.page_titles()
    assert titles[0] == "The main window" and "The briefing pack" in titles
    assert "Event table" in help_window.browser.toPlainText()
    help_window.search.setText("p-value")
    shown = help_window.page_titles()
    assert 0 < len(shown) < len(titles)
    assert help_window.hits.text().startswith("“p-value”:")
    assert help_window.browser.textCursor().selectedText().casefold() == "p-value"
    help_window.search.setText("zzz-not-in-help")
    assert help_window.page_titles() == [] and "is not in the help" in help_window.hits.text()
    help_window.close()


def test_context_menu_copy_cell_ids_filter_exclude(qtbot, small_window, small_events):
    w = small_window
    t = w.table
    w.select_ids([small_events[2]["id"], small_events[3]["id"]])
    row = int(t.table_model.view.view_rows_for_ids([small_events[2]["id"]])[0])
    idx = t.table_model.index(row, _col("launch_site"))
    menu = t.context_menu(idx)
    names = {a.objectName(): a for a in menu.actions()}
    for key in ("copy_cell", "copy_ids", "filter_to_value", "exclude_value", "show_on_timeline"):
        assert key in names and names[key].isEnabled(), key
    assert w.pack_action in menu.actions()  # build a pack from the selection
    names["copy_cell"].trigger()
    assert QApplication.clipboard().text() == "Panghyon"
    names["copy_ids"].trigger()
    assert QApplication.clipboard().text().splitlines() == [small_events[2]["id"], small_events[3]["id"]]
    names["exclude_value"].trigger()
    assert small_events[2]["id"] not in w.visible_event_ids()
    assert w.filter_chips.texts() == ["Site: not Panghyon"]
    w.filter_bar.clear()
    menu = t.context_menu(t.table_model.index(row, _col("missile_class")))
    next(a for a in menu.actions() if a.objectName() == "filter_to_value").trigger()
    assert _classes(w) == {"ICBM"}


def test_ctrl_a_and_ctrl_c_from_the_timeline(qtbot, small_window, small_events):
    w = small_window
    w.activateWindow()
    w.filter_bar.set_classes({"ICBM"})
    w.timeline.plot.setFocus()
    qtbot.keyClick(w.timeline.plot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert sorted(w.selection.ids) == sorted(w.visible_event_ids()) and len(w.selection) == 3
    QApplication.clipboard().clear()
    qtbot.keyClick(w.timeline.plot, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    lines = QApplication.clipboard().text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("Date\tTime (KST)\tClass")
    # in the search box the keys stay the text box's own
    w.filter_bar.search.setText("abc")
    w.filter_bar.search.setFocus()
    qtbot.keyClick(w.filter_bar.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert w.filter_bar.search.selectedText() == "abc"


def test_cut_cells_get_their_full_text_as_tooltip(qtbot, small_window, small_events):
    w = small_window
    t = w.table
    hh = t.horizontalHeader()
    hh.resizeSection(_col("missile_name"), 60)
    row = int(t.table_model.view.view_rows_for_ids([small_events[1]["id"]])[0])
    assert t.cell_is_cut(t.table_model.index(row, _col("missile_name")))  # "Hwasong-10 (Musudan)"
    assert not t.cell_is_cut(t.table_model.index(row, _col("date")))


def test_column_chooser_offers_every_field(qtbot, small_window):
    menu = small_window.table.column_menu()
    titles = [a.text() for a in menu.actions() if a.isCheckable()]
    for title in ("Time (UTC)", "Landing area", "Leader attended", "Coordinates", "Id", "Description",
                  "Notes", "Apogee (km)", "Sources"):
        assert title in titles
    menu.deleteLater()


def test_class_swatch_keeps_its_hue_when_selected(qtbot, small_window):
    from PySide6.QtGui import QIcon

    m = small_window.table.table_model
    icon = m.data(m.index(0, _col("missile_class")), Qt.ItemDataRole.DecorationRole)
    assert isinstance(icon, QIcon)
    normal = icon.pixmap(12, 12, QIcon.Mode.Normal).toImage().pixelColor(6, 6)
    selected = icon.pixmap(12, 12, QIcon.Mode.Selected).toImage().pixelColor(6, 6)
    assert normal == selected


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_export_timeline_is_the_plot_with_title_marking_and_key(qtbot, small_window, tmp_path, suffix):
    from ui.timeline_export import export, legend_items

    w = small_window
    w.timeline.set_calendar_categories({"party_congress", "summit"})
    w.timeline.zoom_to_all()
    out = export(w.timeline, tmp_path / f"tl{suffix}", title="Launches", marking="SECRET//REL TO USA")
    data = (tmp_path / f"tl{suffix}").read_bytes()
    classes, cats = legend_items(w.timeline)
    assert {c for c, _ in classes} >= {"ICBM", "SRBM"}
    assert [c for c, _ in cats] == ["Party congress", "Summit"] or len(cats) == 2
    if suffix == ".svg":
        text = data.decode("utf-8")
        assert "<svg" in text and "SECRET//REL TO USA" in text and "Launches" in text
    else:
        from PySide6.QtGui import QImage

        img = QImage(out)
        assert (img.width(), img.height()) == (1600, 900)
        assert img.pixelColor(5, 5).name() == "#c8102e"  # the SECRET banner's red, top
        assert img.pixelColor(5, 895).name() == "#c8102e"  # and bottom


def test_calendar_form_validates_on_edit_not_on_open(qtbot):
    from PySide6.QtWidgets import QDialogButtonBox

    from ui.calendar_editor import CalendarEntryDialog

    dlg = CalendarEntryDialog(None, ["lx"])
    qtbot.addWidget(dlg)
    save = dlg.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert dlg.problems_label.text() == "A date, a category and a title are needed."  # a hint, no red
    assert not save.isEnabled()
    dlg.date_edit.setText("2026-02-30")
    assert "date '2026-02-30' is not a date" in dlg.problems_label.text()


def test_timing_histogram_never_shows_an_si_scale(qtbot, small_window):
    import pyqtgraph as pg

    small_window.timing_dock.raise_()  # the dock's view is built when first shown
    qtbot.waitUntil(lambda: small_window.findChild(pg.PlotWidget, "timing_histogram") is not None)
    plot = small_window.findChild(pg.PlotWidget, "timing_histogram")
    for ax in ("left", "bottom"):
        axis = plot.getAxis(ax)
        assert not axis.autoSIPrefix and axis.autoSIPrefixScale == 1.0
        assert "x0.001" not in axis.labelString()


def test_map_labels_are_never_cut_or_overlapping(qtbot, small_window, small_events):
    from PySide6.QtCore import QPointF

    w = small_window
    w.select_ids([small_events[8]["id"]])  # North of Pyongyang
    w.detail.tabs.setCurrentIndex(1)
    m = w.detail.map
    qtbot.waitUntil(lambda: m.plot is not None and m.plot.isVisible(), timeout=3000)
    m._set_view(124.0, 132.2, 36.0, 44.0)  # Vladivostok sits at the right edge
    qtbot.wait(20)
    area = m.vb.sceneBoundingRect()
    rects = []
    for t in [m.site_label, *m._place_labels]:
        if t.isVisible():
            r = t.mapRectToScene(t.boundingRect())
            assert area.adjusted(-1, -1, 1, 1).contains(r), t.textItem.toPlainText()
            rects.append(r)
    assert all(not a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    assert "Vladivostok" in m.visible_place_labels()
    vl = m._place_labels[list(m._place_labels).index(next(t for t in m._place_labels
                                                          if t.textItem.toPlainText() == "Vladivostok"))]
    p = m.vb.mapViewToScene(QPointF(131.89, 43.12))
    assert vl.mapRectToScene(vl.boundingRect()).right() <= p.x() + 1  # flipped to the left of its point


def test_tab_skips_the_dock_hidden_behind_another_tab(qtbot, small_window):
    from PySide6.QtWidgets import QApplication, QDockWidget

    w = small_window
    timing = next(d for d in w.findChildren(QDockWidget) if d.windowTitle() == "Timing analysis")
    assert timing in w.tabifiedDockWidgets(w.detail_dock)
    w.detail_dock.raise_()
    qtbot.wait(20)

    def reachable():
        w.activateWindow()
        w.table.setFocus()
        seen = set()
        for _ in range(120):
            w.focusNextChild()
            f = QApplication.focusWidget()
            if f is not None:
                seen.add(f)
        return seen

    assert not any(timing.isAncestorOf(f) for f in reachable())
    timing.raise_()
    qtbot.wait(20)
    assert any(timing.isAncestorOf(f) for f in reachable())


@pytest.mark.parametrize("highlight", [None, {"summit", "party_congress"}])
def test_calendar_labels_never_overlap_and_every_category_has_a_key(qtbot, window, highlight):
    from nkbrief.analysis.context import CATEGORY_LABELS

    tl = window.timeline
    tl.set_calendar_categories(set(CATEGORY_LABELS))
    tl.set_calendar_highlight(highlight)
    tl.zoom_to_all()
    qtbot.wait(20)
    labelled = tl.labelled_entries
    assert labelled  # some are labelled ...
    boxes = [lab.mapRectToScene(lab.boundingRect()) for lab in tl._labels.values() if lab.isVisible()]
    assert len(boxes) == len(labelled)
    assert all(not a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])  # none over another
    assert len(labelled) < len(tl.shown_calendar_entries())  # the rest are on hover
    tl._fill_key_menu()
    texts = [a.text() for a in tl.key_menu.actions()]
    for label in CATEGORY_LABELS.values():
        assert label in texts
    assert not any(a.icon().isNull() for a in tl.key_menu.actions() if a.text() in CATEGORY_LABELS.values())


def test_export_dataset_offers_the_events_shown_first(qtbot, small_window, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QInputDialog

    from ui.import_actions import export_dataset_dialog

    w = small_window
    w.filter_bar.set_classes({"ICBM"})
    offered = []
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: offered.append(a[3]) or (a[3][0], True))
    worker = export_dataset_dialog(w, str(tmp_path / "shown.csv"))
    assert offered == [["the 3 events shown", f"all {len(w.frame):,} events"]]
    qtbot.waitUntil((tmp_path / "shown.csv").exists, timeout=20000)
    QThreadPool.globalInstance().waitForDone(20000)
    assert worker is not None
    import csv

    with open(tmp_path / "shown.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["missile_class"] for r in rows) == ["ICBM"] * 3


def test_old_saved_columns_fall_back_to_the_defaults(qtbot, small_window):
    from ui.style import settings

    t = small_window.table
    s = settings()
    t.save_state(s)
    s.setValue("table/columns", "date,time_kst")  # as saved by an older version
    hh = t.horizontalHeader()
    hh.setSectionHidden(_col("outcome"), True)
    t.restore_state(s)
    assert not hh.isSectionHidden(_col("outcome")) and hh.isSectionHidden(_col("id"))


def test_headers_are_never_clipped(qtbot, small_window):
    from PySide6.QtGui import QFont, QFontMetrics

    t = small_window.table
    hh = t.horizontalHeader()
    f = QFont(hh.font())
    f.setBold(True)
    fm = QFontMetrics(f)
    for i in range(hh.count()):
        text = t.table_model.headerData(i, Qt.Orientation.Horizontal)
        # the title, the sort arrow and the filter mark
        assert fm.horizontalAdvance(text) + 28 <= t.default_width(i), text


def test_add_event_form_opens_without_red_and_validates_as_you_type(qtbot, small_store):
    from ui.edit_dialog import EventEditDialog

    dlg = EventEditDialog(small_store, None)
    qtbot.addWidget(dlg)
    assert dlg.problems  # an empty form is not yet valid ...
    assert all(lab.isHidden() for lab in dlg.problem_labels.values()) and dlg.summary.text() == ""  # ... but quiet
    dlg.set_value("distance", "far away")
    assert not dlg.problem_labels["distance"].isHidden() and dlg.problem_labels["date"].isHidden()
    dlg.accept()  # Save shows every problem
    assert not dlg.problem_labels["date"].isHidden()
