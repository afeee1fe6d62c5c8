"""The briefing-pack dialog, driven through Qt: from the selection to the built file."""

from __future__ import annotations

import time
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt

import ui.pack_dialog as pd_mod
from nkbrief.progress import Cancelled
from ui.pack_dialog import PackDialog, install, open_pack_dialog


@pytest.fixture
def opened(monkeypatch):
    """Paths the dialog asked the desktop to open (nothing is really opened)."""
    seen: list[str] = []
    monkeypatch.setattr(pd_mod, "open_file", lambda p: seen.append(p) or True)
    return seen


def _dialog(qtbot, store, ids, **kw) -> PackDialog:
    dlg = PackDialog(store, ids, **kw)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def table_column(ws, header: str, header_row: int = 3) -> list:
    """The values under ``header`` in a pack sheet's table (header on ``header_row``)."""
    heads = [c.value for c in ws[header_row]]
    col = heads.index(header) + 1
    return [ws.cell(r, col).value for r in range(header_row + 1, ws.max_row + 1)]


def _item(dlg: PackDialog, event_id: str):
    for i in range(dlg.event_list.topLevelItemCount()):
        it = dlg.event_list.topLevelItem(i)
        if it.data(0, Qt.ItemDataRole.UserRole) == event_id:
            return it
    raise KeyError(event_id)


def test_from_selection_to_built_file(qtbot, small_store, small_events, tmp_path, opened):
    ids = [e["id"] for e in small_events[1:5]]
    dlg = _dialog(qtbot, small_store, ids, origin="4 events selected in the event table")
    assert dlg.listed_ids() == ids and dlg.checked_ids() == ids
    # leave one out by hand
    it = _item(dlg, ids[2])
    rect = dlg.event_list.visualItemRect(it)
    check = rect.topLeft() + type(rect.topLeft())(10, rect.height() // 2)
    qtbot.mouseClick(dlg.event_list.viewport(), Qt.MouseButton.LeftButton, pos=check)
    assert it.checkState(0) == Qt.CheckState.Unchecked, "clicking the box unchecks the event"
    assert dlg.checked_ids() == [ids[0], ids[1], ids[3]]
    # the cover fields
    dlg.title_edit.clear()
    qtbot.keyClicks(dlg.title_edit, "ICBM tests 2016-2017")
    qtbot.keyClicks(dlg.author_edit, "A. Analyst")
    qtbot.keyClicks(dlg.judgments_edit, "Tests were spaced out.")
    dlg.set_classification("SECRET//REL TO USA, KOR")
    assert "#C8102E" in dlg.banner.styleSheet()
    dlg.section_checks["stakeholders"].setChecked(False)
    out = tmp_path / "packs" / "icbm.xlsx"
    out.parent.mkdir()
    dlg.path_edit.setText(str(out))
    with qtbot.waitSignal(dlg.pack_built, timeout=30000) as sig:
        qtbot.mouseClick(dlg.build_button, Qt.MouseButton.LeftButton)
        assert not dlg.build_button.isEnabled()  # busy
    assert sig.args == [str(out)]
    assert opened == [str(out)]  # "open when built" is on by default
    assert dlg.build_button.isEnabled() and str(out) in dlg.status_label.text()

    wb = openpyxl.load_workbook(out)
    assert "Stakeholder views" not in wb.sheetnames and "Event log" in wb.sheetnames
    log = wb["Event log"]
    assert table_column(log, "Event ID") == [ids[0], ids[1], ids[3]]
    assert log.oddHeader.center.text == "SECRET//REL TO USA, KOR"
    cover = [str(c.value) for row in wb["Cover"].iter_rows() for c in row if c.value]
    assert "ICBM tests 2016-2017" in cover and "Tests were spaced out." in cover
    assert any("4 events selected in the event table" in t and "1 listed event left out by hand" in t
               for t in cover)
    assert wb.properties.creator == "A. Analyst"

    # the folder and the author are remembered for the next pack
    dlg2 = _dialog(qtbot, small_store, ids)
    assert Path(dlg2.path_edit.text()).parent == out.parent
    assert dlg2.author_edit.text() == "A. Analyst"
    assert not dlg2.section_checks["stakeholders"].isChecked()


def test_add_by_filter_and_check_all(qtbot, small_store, small_events):
    dlg = _dialog(qtbot, small_store, [small_events[0]["id"]])
    qtbot.keyClicks(dlg.filter_from, "2017")
    qtbot.keyClicks(dlg.filter_to, "2019")
    qtbot.mouseClick(dlg.add_button, Qt.MouseButton.LeftButton)
    assert len(dlg.listed_ids()) == 1 + 3  # 2017-07-04, 2017-11-29, 2019-07-25
    assert "Added 3 events" in dlg.filter_message.text()
    assert "added by filter: Korean dates 2017-01-01 to 2019-12-31" in dlg.filters_text()
    qtbot.mouseClick(dlg.add_button, Qt.MouseButton.LeftButton)  # nothing new the second time
    assert len(dlg.listed_ids()) == 4
    dlg.filter_to.setText("2019-13")
    qtbot.mouseClick(dlg.add_button, Qt.MouseButton.LeftButton)
    assert "is not a date" in dlg.filter_message.text()
    qtbot.mouseClick(dlg.uncheck_all_button, Qt.MouseButton.LeftButton)
    assert dlg.checked_ids() == [] and not dlg.build_button.isEnabled()
    assert dlg.status_label.text() == "Check at least one event."
    qtbot.mouseClick(dlg.check_all_button, Qt.MouseButton.LeftButton)
    assert len(dlg.checked_ids()) == 4 and dlg.build_button.isEnabled()


def test_locked_destination_shows_the_reason(qtbot, small_store, small_events, tmp_path, opened,
                                             warnings_shown):
    dlg = _dialog(qtbot, small_store, [e["id"] for e in small_events])
    out = tmp_path / "pack.xlsx"
    (tmp_path / "~$pack.xlsx").write_text("owner")
    dlg.path_edit.setText(str(out))
    with qtbot.waitSignal(dlg.build_failed, timeout=30000) as sig:
        qtbot.mouseClick(dlg.build_button, Qt.MouseButton.LeftButton)
    assert "open in Excel" in sig.args[0]
    assert warnings_shown and "open in Excel" in warnings_shown[0]
    assert "Not built" in dlg.status_label.text()
    assert not out.exists() and opened == []
    assert dlg.build_button.isEnabled()


def test_cancel_stops_the_build(qtbot, small_store, small_events, tmp_path, monkeypatch, opened):
    def slow_job(db_path, ids, options, timing_window=None, *, progress=None):
        for i in range(2000):  # stands in for a big pack; Cancel makes progress() raise
            progress(i, 2000, "Event log")
            time.sleep(0.005)
        raise AssertionError("cancel was ignored")

    monkeypatch.setattr(pd_mod, "build_job", slow_job)
    dlg = _dialog(qtbot, small_store, [e["id"] for e in small_events])
    dlg.path_edit.setText(str(tmp_path / "p.xlsx"))
    qtbot.mouseClick(dlg.build_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.progress_bar.maximum() == 2000, timeout=10000)
    assert dlg.cancel_button.isEnabled()
    with qtbot.waitSignal(dlg.build_cancelled, timeout=10000):
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert "nothing was written" in dlg.status_label.text()
    assert not dlg.progress_bar.isVisible() and dlg.build_button.isEnabled()
    assert opened == []


def test_closing_while_building_cancels_first(qtbot, small_store, small_events, tmp_path, monkeypatch):
    def slow_job(db_path, ids, options, timing_window=None, *, progress=None):
        while True:
            progress(0, 0, "waiting")
            time.sleep(0.005)

    monkeypatch.setattr(pd_mod, "build_job", slow_job)
    dlg = _dialog(qtbot, small_store, [small_events[0]["id"]])
    dlg.path_edit.setText(str(tmp_path / "p.xlsx"))
    dlg.build()
    with qtbot.waitSignal(dlg.build_cancelled, timeout=10000):
        dlg.reject()
        assert dlg.isVisible()  # stays until the worker has stopped
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)


def test_build_job_with_timing(small_store, tmp_path):
    pytest.importorskip("nkbrief.analysis.timing")
    from nkbrief.briefing.pack import PackOptions

    ids = list(small_store.events_frame()["id"])
    path = pd_mod.build_job(str(small_store.path), ids, PackOptions(output=tmp_path / "t.xlsx",
                                                                    sections=["context"]), 30)
    ws = openpyxl.load_workbook(path)["Context & timing"]
    assert any(c.value == "Timing analysis" for row in ws.iter_rows() for c in row)
    with pytest.raises(Cancelled):
        from nkbrief.progress import Progress

        p = Progress()
        p.cancel()
        pd_mod.build_job(str(small_store.path), ids, PackOptions(output=tmp_path / "u.xlsx"), None,
                         progress=p)
    assert not (tmp_path / "u.xlsx").exists()


def test_window_menu_toolbar_and_right_click(qtbot, small_window, small_events, tmp_path, opened):
    w = small_window
    action = install(w)
    assert install(w) is action  # installing twice adds nothing
    assert action in w.menus["File"].actions()
    assert action in w.toolbar.actions()
    assert w.table.context_actions().count(action) == 1  # the table's right-click hook
    assert w.table.contextMenuPolicy() == Qt.ContextMenuPolicy.DefaultContextMenu
    menu = w.table.context_menu()
    assert menu.actions()[0] is action and "Copy rows" in [a.text() for a in menu.actions()]
    menu.deleteLater()

    ids = [small_events[2]["id"], small_events[3]["id"]]
    w.selection.set(ids, source=None)
    action.trigger()
    dlg = w.pack_dialog
    qtbot.waitExposed(dlg)
    assert sorted(dlg.checked_ids()) == sorted(ids)
    assert "2 events selected in the event table" in dlg.filters_text()
    dlg.path_edit.setText(str(tmp_path / "w.xlsx"))
    with qtbot.waitSignal(dlg.pack_built, timeout=30000):
        dlg.build()
    log = openpyxl.load_workbook(tmp_path / "w.xlsx")["Event log"]
    assert sorted(table_column(log, "Event ID")) == sorted(ids)
    dlg.close()

    # no selection: the events the table shows
    w.selection.set([], source=None)
    dlg = open_pack_dialog(w)
    qtbot.waitExposed(dlg)
    assert sorted(dlg.checked_ids()) == sorted(w.visible_event_ids())
    assert "events shown in the event table" in dlg.origin
    dlg.close()


def test_importing_the_dialog_does_not_load_openpyxl():
    """openpyxl (~0.2 s) loads when a pack is built, not when the window starts."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    code = "import sys, ui.pack_dialog, nkbrief.briefing.pack\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, check=True).stdout.split()
    assert "ui.pack_dialog" in out
    assert [m for m in out if m.split(".")[0] == "openpyxl"] == []


def test_timing_options_follow_the_timing_dock(qtbot, small_window, small_events, tmp_path, opened):
    """The pack's timing analysis starts from what the analyst sees in the Timing dock."""
    pytest.importorskip("nkbrief.analysis.timing")
    w = small_window
    tv = w.timing_view
    tv.set_categories(["summit", "exercise"])
    tv.window_spin.setValue(45)
    tv.seed_spin.setValue(4321)
    tv.sims_combo.setCurrentIndex(tv.sims_combo.findData(1_000))
    tv.null_combo.setCurrentIndex(tv.null_combo.findData("shuffle"))
    extra = {"when": None, "null": "shuffle", "classes": ["SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "HGV"],
             "include_failed": True}
    assert pd_mod.timing_settings_of(w) == {"categories": ["summit", "exercise"], "window": 45, "seed": 4321,
                                            "simulations": 1_000} | extra
    w.selection.set([e["id"] for e in small_events], source=None)
    dlg = open_pack_dialog(w)
    qtbot.waitExposed(dlg)
    # shown in the dialog, ready to switch on
    assert dlg.timing_categories() == ["summit", "exercise"]
    assert dlg.timing_category_checks["summit"].isChecked()
    assert not dlg.timing_category_checks["party_congress"].isChecked()
    assert (dlg.timing_window.value(), dlg.timing_seed.value(), dlg.timing_simulations.currentData()) == \
           (45, 4321, 1_000)
    assert "Timing dock" in dlg.timing_source_label.text()
    assert dlg.timing_source_label.text().endswith(
        "Counts ballistic launches (SRBM, MRBM, IRBM, ICBM, SLBM, HGV), failed ones included; "
        "null model: per-year shuffle.")
    assert dlg.timing_options() is None and not dlg.timing_box.isEnabled()  # off until ticked
    qtbot.mouseClick(dlg.timing_check, Qt.MouseButton.LeftButton)
    assert dlg.timing_box.isEnabled()
    assert dlg.timing_options() == {"categories": ["summit", "exercise"], "window": 45, "seed": 4321,
                                    "simulations": 1_000} | extra
    # no category: cannot build
    for cb in dlg.timing_category_checks.values():
        cb.setChecked(False)
    assert not dlg.build_button.isEnabled() and "calendar category" in dlg.status_label.text()
    dlg.timing_category_checks["summit"].setChecked(True)
    dlg.section_checks["stakeholders"].setChecked(False)
    out = tmp_path / "timed.xlsx"
    dlg.path_edit.setText(str(out))
    with qtbot.waitSignal(dlg.pack_built, timeout=30000):
        dlg.build()
    ws = openpyxl.load_workbook(out)["Context & timing"]
    pairs = {}  # the timing analysis's label (A:C) / value (D:G) rows
    for row in ws.iter_rows(values_only=True):
        if isinstance(row[0], str) and len(row) > 3 and row[3] is not None:
            pairs.setdefault(row[0], row[3])
    assert pairs["Seed"] == 4321 and pairs["Simulations"] == 1_000
    assert pairs["Windows"] == "within 45 days before a summit"
    assert pairs["Categories"] == "Summit"
    assert pairs["Null model"].startswith("shuffle: Per-year shuffle")  # as chosen in the dock
    assert pairs["Launches counted"] == (
        "ballistic launches (SRBM, MRBM, IRBM, ICBM, SLBM, HGV), failed ones included")
    dlg.close()


def test_timing_defaults_without_a_timing_dock(qtbot, small_store, small_events):
    dlg = _dialog(qtbot, small_store, [small_events[0]["id"]])
    assert dlg.timing_categories() == list(dlg.timing_category_checks)  # every category
    assert dlg.timing_window.value() == 30 and dlg.timing_simulations.currentData() == 10_000
    assert "not open" in dlg.timing_source_label.text()
    assert pd_mod.timing_settings_of(object()) is None


def test_the_marking_must_be_chosen_unless_the_site_sets_one(qtbot, small_store, small_events, tmp_path,
                                                              monkeypatch):
    """Issue 17: no marking is assumed; the site default (nkbrief.privacy) is offered."""
    ids = [e["id"] for e in small_events[:2]]
    monkeypatch.setenv("NKBRIEF_SITE_CONFIG", str(tmp_path / "absent.ini"))
    dlg = _dialog(qtbot, small_store, ids)
    dlg.path_edit.setText(str(tmp_path / "p.xlsx"))
    assert dlg.classification_combo.currentText() == ""
    assert dlg.problem() == "Choose or type a classification marking."
    dlg.set_classification("CUI")
    assert dlg.problem() is None
    dlg.close()
    site = tmp_path / "site.ini"
    site.write_text("[pack]\nclassification = CONFIDENTIAL\n", encoding="utf-8")
    monkeypatch.setenv("NKBRIEF_SITE_CONFIG", str(site))
    dlg = _dialog(qtbot, small_store, ids)
    assert dlg.classification_combo.currentText() == "CONFIDENTIAL"
    assert dlg.author_edit.placeholderText()  # the OS user name a blank author becomes
