"""The Timing dock and the calendar editor, driven through Qt (offscreen)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QThreadPool  # noqa: E402
from PySide6.QtGui import QUndoStack  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox  # noqa: E402

from nkbrief.model import schema  # noqa: E402
from nkbrief.selection import Selection  # noqa: E402
from nkbrief.store import Store  # noqa: E402
from nkbrief.analysis.timing import timing_analysis  # noqa: E402
from ui import calendar_editor, timing_view  # noqa: E402
from ui.calendar_editor import CalendarEditor, CalendarEntryDialog  # noqa: E402
from ui.timing_view import TimingView  # noqa: E402

#: The offscreen platform warns on every top-level show; that is the platform, not us.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints")

CALENDAR = [
    ("lx", "2026-01-05", None, "summit", "Lee–Xi summit"),
    ("c9", "2026-02-19", "2026-02-25", "party_congress", "9th Party Congress"),
    ("fs", "2026-03-09", "2026-03-19", "exercise", "Freedom Shield 2026"),
    ("ufs25", "2025-08-18", "2025-08-28", "exercise", "Ulchi Freedom Shield 2025"),
    ("s25", "2025-06-01", None, "summit", "A 2025 summit"),
]
LAUNCHES = ["2025-05-25", "2025-08-10", "2025-09-01", "2026-01-04", "2026-01-27", "2026-01-27",
            "2026-03-01", "2026-03-14", "2026-05-08", "2026-08-12"]


@pytest.fixture
def store(tmp_path):
    st = Store.open(tmp_path / "timing.sqlite3", seed=False)
    b = st.new_batch("manual")
    for eid, d, end, cat, title in CALENDAR:
        st.insert_calendar_entry({"id": eid, "date": d, "end_date": end, "category": cat, "title": title,
                                  "description": "", "sources": []}, b)
    for i, d in enumerate(LAUNCHES):
        st.insert_event(schema.empty_event() | {"id": f"e{i}", "date": d, "missile_class": "SRBM"}, b)
    yield st
    QThreadPool.globalInstance().waitForDone(10_000)
    st.close()


def make_view(qtbot, store, selection=None):
    view = TimingView(selection if selection is not None else Selection())
    qtbot.addWidget(view)
    view.seed_spin.setValue(11)
    highlights = []
    view.highlight_changed.connect(highlights.append)
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.set_frames(store.events_frame(), store.calendar_frame())
        view.show()
    return view, highlights


def test_changing_the_category_updates_the_numbers_and_the_highlight(qtbot, store):
    view, highlights = make_view(qtbot, store)
    res = view.result
    assert res["category"] == ["party_congress", "summit"] and highlights[-1] == {"party_congress", "summit"}
    direct = timing_analysis(store.events_frame(), store.calendar_frame(), ["party_congress", "summit"],
                             seed=11, observed_until="2026-08-12")
    assert (res["within_window"], res["p_value"]) == (direct["within_window"], direct["p_value"])
    assert view.summary_label.text() == direct["summary"]
    assert view.summary_label.text().startswith("3 of 9 launch days in 2025–2026 fell within 30 days "
                                                "before a party congress or summit")
    assert "seed 11" in view.numbers_label.text()

    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.category_boxes["party_congress"].setChecked(False)
        view.category_boxes["summit"].setChecked(False)
        view.category_boxes["exercise"].setChecked(True)
        view.when_combo.setCurrentIndex(view.when_combo.findData("before"))
    res2 = view.result
    assert res2["category"] == ["exercise"] and highlights[-1] == {"exercise"}
    direct = timing_analysis(store.events_frame(), store.calendar_frame(), ["exercise"], seed=11,
                             observed_until="2026-08-12", when="before")
    assert res2["within_window"] == direct["within_window"] == 2  # 2025-08-10 and 2026-03-01
    assert view.summary_label.text().startswith("2 of 9 launch days in 2025–2026 fell within 30 days "
                                                "before a US–ROK exercise")
    assert view.table.rowCount() == 10
    assert sum(view.table.item(r, 1).text() == "●" for r in range(10)) == 2

    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.window_spin.setValue(7)
    assert view.result["window_days"] == 7 and view.result["within_window"] == 0
    assert view.window_band.getRegion()[1] == pytest.approx(7.5)


def test_what_counts_and_the_null_model_are_chosen_in_the_dock(qtbot, store):
    view, _ = make_view(qtbot, store)
    assert view.class_combo.currentText() == "Ballistic (SRBM, MRBM, IRBM, ICBM, SLBM, HGV)"
    assert view.failed_check.isChecked() and view.null_combo.currentData() == "shift"
    assert view.analysis_options() == {"when": None, "null": "shift", "include_failed": True,
                                       "classes": ["SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "HGV"]}
    text = view.numbers_label.text()
    assert "Counted: ballistic launches (SRBM, MRBM, IRBM, ICBM, SLBM, HGV), failed ones included" in text
    assert "null: circular shift within each year" in text and "adjusted p" not in text
    assert "adjusted = " in text or "adjusted < " in text
    # several categories: one row per test and one for any of them, Holm-adjusted together
    assert view.tests_table.isVisibleTo(view) and view.tests_table.rowCount() == 3
    assert [view.tests_table.item(r, 0).text() for r in range(3)] == ["Party congress", "Summit",
                                                                      "Any of them"]
    note = view.tests_note.text()  # the small calendar here has 1 congress and 2 summits
    assert note.startswith("Grey: the test cannot tell (Party congress, Summit, Any of them: fewer than 5 ")
    for key, null in (("all", "shuffle"),):
        with qtbot.waitSignal(view.result_changed, timeout=10_000):
            view.class_combo.setCurrentIndex(view.class_combo.findData(key))
            view.null_combo.setCurrentIndex(view.null_combo.findData(null))
            view.failed_check.setChecked(False)
        res = view.result
        direct = timing_analysis(store.events_frame(), store.calendar_frame(), ["party_congress", "summit"],
                                 seed=11, observed_until="2026-08-12", classes=None, null="shuffle",
                                 include_failed=False)
        assert res["classes"] is None and res["null"] == "shuffle" and not res["include_failed"]
        assert (res["p_value"], res["p_adjusted"], res["events"]) == (
            direct["p_value"], direct["p_adjusted"], direct["events"])
        assert "null: per-year shuffle" in view.numbers_label.text()


def test_no_category_chosen_says_so(qtbot, store):
    view, highlights = make_view(qtbot, store)
    for cb in view.category_boxes.values():
        cb.setChecked(False)
    qtbot.waitUntil(lambda: view.result is None and "Choose at least one" in view.summary_label.text())
    assert highlights[-1] is None


def test_visible_scope_follows_the_table_and_cancel_discards_a_run(qtbot, store):
    shown = ["e3", "e4"]
    view = TimingView(Selection(), visible_ids=lambda: list(shown))
    qtbot.addWidget(view)
    view.set_scope("visible")
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.set_frames(store.events_frame(), store.calendar_frame())
        view.show()
    assert (view.result["events"], view.result["launches"]) == (2, 2)
    shown.append("e5")
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.on_visible_rows_changed()
    assert (view.result["events"], view.result["launches"]) == (3, 2)

    got = []
    view.result_changed.connect(got.append)
    view.recompute()
    view.cancel()
    view.wait()
    qtbot.wait(50)
    assert got == [] and view.summary_label.text() == "Cancelled." and view.result is None


def test_selection_scope_and_table_selection(qtbot, store):
    sel = Selection()
    view, _ = make_view(qtbot, store, sel)
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.set_scope("selection")
    assert view.result is None and view.summary_label.text().startswith("Select launches")
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        sel.set(["e4", "e5", "e3"])  # two events on 2026-01-27, one on 2026-01-04
    assert (view.result["launches"], view.result["events"], view.result["within_window"]) == (2, 3, 2)
    assert "(selected launches) fell within" in view.summary_label.text()
    assert view.selected_table_ids() == []  # every row is selected here; marking them all would hide them

    # picking a row in the table selects that launch everywhere, without echoing back
    row = next(r for r in range(view.table.rowCount())
               if view.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == "e3")
    view.table.selectRow(row)
    assert sel.ids == ("e3",)
    qtbot.wait(50)
    assert view.result["events"] == 3  # the view's own pick does not re-run the analysis

    # over all launches, the shared selection is shown in the table
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.set_scope("all")
    sel.set(["e4", "e5"])
    assert sorted(view.selected_table_ids()) == ["e4", "e5"]


def test_same_seed_same_numbers_new_seed_changes_them(qtbot, store):
    view, _ = make_view(qtbot, store)
    first = view.result
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.seed_spin.setValue(12)
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.seed_spin.setValue(11)
    assert view.result == first
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.new_seed_button.click()
    assert view.result["seed"] == view.seed_spin.value()


@pytest.mark.qt_log_ignore(r"This plugin does not support (raise\(\)|propagateSizeHints)")
def test_in_the_main_window_the_timeline_highlight_follows_the_dock(qtbot, store):
    from ui.app import MainWindow

    w = MainWindow(store, install_features=False, restore=False)
    qtbot.addWidget(w)
    dock = timing_view.install(w)
    assert dock is w.timing_dock
    view = w.timing_view
    view.seed_spin.setValue(3)
    w.show()
    w.timing_dock.show()
    w.timing_dock.raise_()
    qtbot.waitUntil(lambda: view.result is not None, timeout=10_000)
    assert w.timeline.calendar_highlight == {"party_congress", "summit"}
    assert w.timing_dock.toggleViewAction() in w.menus["View"].actions()
    assert any(a.objectName() == "edit_calendar_action" for a in w.menus["Edit"].actions())

    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        view.category_boxes["summit"].setChecked(False)
    assert w.timeline.calendar_highlight == {"party_congress"}
    assert view.result["category"] == ["party_congress"]
    assert view.result["within_window"] == 1  # 2026-01-27, 23 days before the congress
    entries_before = view.result["calendar_entries"]

    # a calendar change made in the editor reaches the analysis through the window's reload
    editor_action = next(a for a in w.menus["Edit"].actions() if a.objectName() == "edit_calendar_action")
    editor_action.trigger()
    editor = w.calendar_editor
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        calendar_editor.push(w.undo_stack, calendar_editor.AddCalendarEntryCommand(
            store, {"id": "c8x", "date": "2025-09-10", "end_date": None, "category": "party_congress",
                    "title": "A plenary congress", "description": "", "sources": []}))
    assert view.result["calendar_entries"] == entries_before + 1
    assert editor.status_label.text().startswith("6 of 6 entries")
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        w.undo_stack.undo()
    assert view.result["calendar_entries"] == entries_before

    w.timing_dock.hide()
    qtbot.waitUntil(lambda: w.timeline.calendar_highlight is None)
    editor.close()


@pytest.mark.qt_log_ignore(r"This plugin does not support (raise\(\)|propagateSizeHints)")
def test_the_view_is_built_when_its_dock_is_first_shown(qtbot, store):
    """Behind the Details tab at start, the dock holds no view until the analyst opens it."""
    from ui.app import MainWindow

    w = MainWindow(store, install_features=False, restore=False)
    qtbot.addWidget(w)
    dock = timing_view.install(w)
    w.show()
    qtbot.waitExposed(w)
    qtbot.wait(20)
    assert "timing_view" not in vars(w) and w.findChild(TimingView) is None
    assert dock.toggleViewAction() in w.menus["View"].actions()
    assert dock in w.tabifiedDockWidgets(w.detail_dock) and dock.minimumWidth() == 420
    assert w.timeline.calendar_highlight is None

    dock.raise_()
    qtbot.waitUntil(lambda: "timing_view" in vars(w), timeout=5000)
    view = w.timing_view
    assert w.findChild(TimingView) is view
    qtbot.waitUntil(lambda: view.result is not None, timeout=10_000)  # shown, so it computes
    assert w.timeline.calendar_highlight == {"party_congress", "summit"}
    assert view.result["within_window"] >= 1
    w.detail_dock.raise_()
    qtbot.waitUntil(lambda: w.timeline.calendar_highlight is None)
    assert w.timing_view is view  # built once


@pytest.mark.qt_log_ignore(r"This plugin does not support (raise\(\)|propagateSizeHints)")
def test_reading_the_view_builds_it_hidden_and_idle(qtbot, store):
    """The pack dialog reads window.timing_view for its options: a covered dock's view is built
    then, but it computes nothing and highlights nothing until it is shown."""
    from ui.app import MainWindow

    w = MainWindow(store, install_features=False, restore=False)
    qtbot.addWidget(w)
    timing_view.install(w)
    w.show()
    qtbot.waitExposed(w)
    qtbot.wait(20)
    view = w.timing_view
    assert isinstance(view, TimingView) and view.categories() == ["party_congress", "summit"]
    qtbot.wait(50)
    assert view.result is None and w.timeline.calendar_highlight is None
    assert len(view.events) == len(w.frame)  # the window's frames, ready for when it is shown
    with qtbot.waitSignal(view.result_changed, timeout=10_000):
        w.timing_dock.raise_()


def test_a_lazy_attribute_is_built_once_and_faults_are_not_hidden(qtbot, store):
    from ui.app import MainWindow

    w = MainWindow(store, install_features=False, restore=False)
    qtbot.addWidget(w)
    built = []
    w.add_lazy_attribute("thing", lambda: built.append(1) or "made")
    assert built == [] and "thing" not in vars(w)
    assert w.thing == "made" and w.thing == "made" and built == [1]
    with pytest.raises(AttributeError):
        w.no_such_thing  # noqa: B018
    assert getattr(w, "no_such_thing", None) is None

    def broken():
        return w.missing_part  # an AttributeError inside the builder is a fault, not "absent"

    w.add_lazy_attribute("broken", broken)
    with pytest.raises(RuntimeError, match="building window.broken"):
        getattr(w, "broken", None)


# ------------------------------------------------------------------ the calendar editor
def fill(dlg: CalendarEntryDialog, **cells) -> None:
    edits = {"id": dlg.id_edit, "date": dlg.date_edit, "end_date": dlg.end_edit, "title": dlg.title_edit}
    for k, v in cells.items():
        if k == "category":
            dlg.category_combo.setCurrentIndex(dlg.category_combo.findData(v))
        elif k == "sources":
            dlg.sources_edit.setPlainText(v)
        elif k == "description":
            dlg.description_edit.setPlainText(v)
        else:
            edits[k].setText(v)


def accept_when_run(monkeypatch, dlg) -> None:
    monkeypatch.setattr(dlg, "exec", lambda: (dlg.accept(), dlg.result())[1])


def test_editor_add_is_validated_audited_and_undoable(qtbot, store, monkeypatch):
    stack = QUndoStack()
    ed = CalendarEditor(store, stack)
    qtbot.addWidget(ed)
    assert ed.table.rowCount() == 5
    dlg = CalendarEntryDialog(None, ed._ids, ed)
    qtbot.addWidget(dlg)
    save = dlg.buttons.button(QDialogButtonBox.StandardButton.Save)
    fill(dlg, date="2026-02-30", category="summit", title="Trump–Kim summit")
    assert not save.isEnabled() and dlg.problems_label.text() == "date '2026-02-30' is not a date"
    fill(dlg, date="2026-04-01", end_date="2026-03-01")
    assert dlg.problems_label.text() == "end_date '2026-03-01' is before date (2026-04-01)"
    fill(dlg, end_date="", id="lx")
    assert dlg.problems_label.text() == "id 'lx' is already used"
    fill(dlg, id="", sources="https://a.example\nhttps://b.example")
    assert save.isEnabled() and dlg.problems_label.text() == ""
    accept_when_run(monkeypatch, dlg)
    eid = ed.add_entry(dlg)
    assert eid == "summit-2026-04-01-trump-kim-summit"
    entry = store.get_calendar_entry(eid)
    assert entry["sources"] == ["https://a.example", "https://b.example"]
    assert ed.table.rowCount() == 6 and ed.selected_ids() == [eid]
    assert list(store.audit_frame(record_id=eid)["action"]) == ["insert"]
    stack.undo()
    assert store.get_calendar_entry(eid) is None and ed.table.rowCount() == 5
    stack.redo()
    assert store.get_calendar_entry(eid)["title"] == "Trump–Kim summit"
    assert list(store.audit_frame(record_id=eid)["action"]) == ["insert", "delete", "insert"]


def test_editor_edit_and_delete_with_undo(qtbot, store, monkeypatch):
    stack = QUndoStack()
    ed = CalendarEditor(store, stack)
    qtbot.addWidget(ed)
    ed.select_id("c9")
    dlg = CalendarEntryDialog(store.get_calendar_entry("c9"), ed._ids, ed)
    qtbot.addWidget(dlg)
    assert dlg.id_edit.isReadOnly() and dlg.date_edit.text() == "2026-02-19"
    fill(dlg, title="9th Congress of the WPK", end_date="2026-02-26")
    assert dlg.changes() == {"title": "9th Congress of the WPK", "end_date": "2026-02-26"}
    accept_when_run(monkeypatch, dlg)
    assert ed.edit_selected(dlg)
    assert store.get_calendar_entry("c9")["end_date"] == "2026-02-26"
    audit = store.audit_frame(record_id="c9")
    assert set(audit["field"].dropna()) == {"title", "end_date"}
    stack.undo()
    c9 = store.get_calendar_entry("c9")
    assert (c9["title"], c9["end_date"]) == ("9th Party Congress", "2026-02-25")

    ed.select_id("lx")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert ed.delete_selected()
    assert store.get_calendar_entry("lx") is None and stack.undoText().startswith("Delete 1 calendar entry")
    stack.undo()
    assert store.get_calendar_entry("lx")["title"] == "Lee–Xi summit"


def test_editor_import_good_file_undo_and_bad_file_changes_nothing(qtbot, store, tmp_path, monkeypatch):
    stack = QUndoStack()
    ed = CalendarEditor(store, stack)
    qtbot.addWidget(ed)
    good = tmp_path / "more.csv"
    good.write_text("id,date,end_date,category,title,description,sources\n"
                    "kr26,2026-04-25,,anniversary,KPRA founding day,,\n"
                    "lx,2026-01-05,,summit,Lee–Xi summit (Beijing),,\n", encoding="utf-8")
    assert ed.import_csv(str(good))
    assert ed.status_label.text() == "more.csv: 1 added, 1 updated, 0 identical"
    assert store.get_calendar_entry("lx")["title"] == "Lee–Xi summit (Beijing)"
    assert ed.table.rowCount() == 6
    stack.undo()
    assert store.get_calendar_entry("kr26") is None
    assert store.get_calendar_entry("lx")["title"] == "Lee–Xi summit"

    before = (store.calendar_frame().to_json(), len(store.audit_frame()), len(store.batches_frame()))
    bad = tmp_path / "bad.csv"
    bad.write_text("id,date,end_date,category,title,description,sources\n"
                   "x1,2026-02-30,,summit,Bad,,\n", encoding="utf-8")
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.text()) or 0)
    assert not ed.import_csv(str(bad))
    assert ed.last_problems == ["row 2: date '2026-02-30' is not a date"]
    assert shown and shown[0].startswith("bad.csv was not imported: 1 problem. Nothing was changed.")
    assert (store.calendar_frame().to_json(), len(store.audit_frame()), len(store.batches_frame())) == before
    assert stack.count() == 1 and not stack.canUndo()  # the undone import stays redoable only


def test_editor_export(qtbot, store, tmp_path):
    ed = CalendarEditor(store, QUndoStack())
    qtbot.addWidget(ed)
    out = ed.export_csv(str(tmp_path / "cal.csv"))
    text = open(out, encoding="utf-8").read()
    assert text.startswith("id,date,end_date,category,title,description,sources\n") and "Lee–Xi summit" in text


def test_dialog_exec_path_is_modal_and_cancellable(qtbot, store, monkeypatch):
    ed = CalendarEditor(store, QUndoStack())
    qtbot.addWidget(ed)
    monkeypatch.setattr(CalendarEntryDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert ed.add_entry() is None and ed.table.rowCount() == 5
