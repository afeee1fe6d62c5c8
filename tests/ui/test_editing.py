"""Add, edit and delete events through the validated dialog; undo/redo; everything audited."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox

from ui.edit_dialog import EventEditDialog


def _accepting(monkeypatch, fill):
    """Make EventEditDialog.exec() fill the form like an analyst and press Save."""

    def fake_exec(dlg):
        fill(dlg)
        dlg.accept()
        return QDialog.DialogCode.Accepted if dlg.result() == QDialog.DialogCode.Accepted else QDialog.DialogCode.Rejected

    monkeypatch.setattr(EventEditDialog, "exec", fake_exec)


def test_dialog_shows_problems_inline_and_refuses_to_save(qtbot, small_store):
    dlg = EventEditDialog(small_store, None)
    qtbot.addWidget(dlg)
    dlg.set_value("date", "31-Feb-26")
    dlg.set_value("distance", "far away")
    dlg.set_value("time_kst", "25:61")
    dlg.set_value("latitude", "39.2")
    probs = dlg.check()
    assert probs["date"] == "Date '31-Feb-26' is not a date"
    assert probs["distance"] == "Distance 'far away' is not a distance"
    assert probs["time_kst"] == "Time '25:61' is not a time"
    assert "longitude must be given together" in probs["latitude"]
    assert dlg.problem_labels["date"].text() == probs["date"] and not dlg.problem_labels["date"].isHidden()
    assert dlg.fields["date"].property("invalid") is True
    dlg.accept()
    assert dlg.result() != QDialog.DialogCode.Accepted and dlg.result_event is None
    assert small_store.event_count() == 10  # nothing written


def test_dialog_rejects_a_duplicate_event(qtbot, small_store, small_events):
    dlg = EventEditDialog(small_store, None)
    qtbot.addWidget(dlg)
    seed = small_events[8]
    dlg.set_value("date", seed["date"])
    dlg.set_value("missile_class", seed["missile_class"])
    dlg.set_value("launch_site", seed["launch_site"])
    assert "already exists" in dlg.check()["date"]


def test_dialog_parses_ranges_month_dates_and_hangul(qtbot, small_store):
    dlg = EventEditDialog(small_store, None)
    qtbot.addWidget(dlg)
    dlg.set_value("date", "May 1993")
    dlg.set_value("missile_class", "MRBM")
    dlg.set_value("missile_name", "노동 (Nodong)")
    dlg.set_value("distance", "between 25 and 90 km")
    dlg.set_value("count", "2 missiles")
    dlg.set_value("sources", "https://a.example\nhttps://b.example")
    assert dlg.check() == {}
    ev, _ = dlg.build()
    assert (ev["date"], ev["date_precision"]) == ("1993-05-01", "month")
    assert (ev["distance_km"], ev["distance_km_max"]) == (25.0, 90.0)
    assert ev["count"] == 2 and ev["missile_name"] == "노동 (Nodong)"
    assert ev["sources"] == ["https://a.example", "https://b.example"]
    dlg.set_value("time_kst", "10:00")
    assert "known only to the month" in dlg.check()["time_kst"]


def test_add_event_through_window_then_undo_and_redo(qtbot, small_window, monkeypatch):
    w = small_window
    store = w.store

    def fill(dlg):
        dlg.set_value("date", "2026-04-01")
        dlg.set_value("time_kst", "07:10")
        dlg.set_value("missile_class", "SRBM")
        dlg.set_value("launch_site", "Wonsan")
        dlg.set_value("distance", "600")
        dlg.set_value("sources", "JCS text message")

    _accepting(monkeypatch, fill)
    new_id = w.add_event()
    assert new_id == "2026-04-01-srbm-wonsan"
    ev = store.get_event(new_id)
    assert ev["time_utc"] == "2026-03-31T22:10:00Z" and ev["distance_km"] == 600.0
    assert new_id in w.visible_event_ids() and w.selection.ids == (new_id,)
    assert store.audit_frame(record_id=new_id).iloc[-1]["action"] == "insert"
    w.undo_stack.undo()
    assert not store.has_event(new_id)
    qtbot.waitUntil(lambda: new_id not in w.visible_event_ids(), timeout=2000)
    assert store.audit_frame(record_id=new_id).iloc[-1]["action"] == "delete"
    w.undo_stack.redo()
    assert store.get_event(new_id)["distance_km"] == 600.0


def test_edit_event_changes_fields_audited_and_undoable(qtbot, small_window, small_events, monkeypatch):
    w = small_window
    eid = small_events[8]["id"]
    w.select_ids([eid])
    _accepting(monkeypatch, lambda dlg: (dlg.set_value("distance", "330-360"), dlg.set_value("outcome", "success")))
    assert w.edit_event()
    ev = w.store.get_event(eid)
    assert (ev["distance_km"], ev["distance_km_max"], ev["outcome"]) == (330.0, 360.0, "success")
    fields = set(w.store.audit_frame(record_id=eid)["field"].dropna())
    assert {"distance_km", "distance_km_max", "outcome"} <= fields
    table_text = w.table.table_model.view.display("distance_km")[w.table.table_model.view.frame_rows_for_ids([eid])[0]]
    assert table_text == "330–360"
    w.undo_stack.undo()
    ev = w.store.get_event(eid)
    assert (ev["distance_km"], ev["distance_km_max"], ev["outcome"]) == (350.0, None, "unknown")


def test_invalid_edit_never_reaches_the_store(qtbot, small_window, small_events, monkeypatch):
    w = small_window
    eid = small_events[8]["id"]
    w.select_ids([eid])
    before = w.store.get_event(eid)
    n_audit = len(w.store.audit_frame())

    def fake_exec(dlg):
        dlg.set_value("apogee", "-5")
        dlg.accept()  # refused: the dialog stays open with the problem shown
        assert "apogee" in dlg.problems
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(EventEditDialog, "exec", fake_exec)
    assert not w.edit_event()
    assert w.store.get_event(eid) == before and len(w.store.audit_frame()) == n_audit
    assert w.undo_stack.count() == 0


def test_delete_selected_events_and_undo_restores_them_with_statements(qtbot, small_window, small_events, monkeypatch):
    w = small_window
    ids = [small_events[7]["id"], small_events[8]["id"]]
    stmts = w.store.statements(ids[1])
    assert stmts
    w.select_ids(ids)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    w.table.setFocus()
    qtbot.keyClick(w.table, Qt.Key.Key_Delete)
    assert not any(w.store.has_event(i) for i in ids)
    assert w.selection.ids == ()
    assert w.table.model().rowCount() == 8
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert all(w.store.has_event(i) for i in ids)
    assert w.store.statements(ids[1]) == stmts
    qtbot.waitUntil(lambda: w.table.model().rowCount() == 10, timeout=2000)


def test_delete_is_cancelled_by_the_confirmation(qtbot, small_window, small_events, monkeypatch):
    w = small_window
    w.select_ids([small_events[0]["id"]])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert not w.delete_events()
    assert w.store.has_event(small_events[0]["id"])


def test_notes_too_long_are_refused_and_kept_unsaved(qtbot, small_window, small_events):
    from nkbrief.model.schema import MAX_TEXT_CHARS

    w = small_window
    eid = small_events[1]["id"]
    w.select_ids([eid])
    w.detail.notes_edit.setPlainText("x" * (MAX_TEXT_CHARS + 1))
    w.detail.save_notes()
    assert w.store.get_event(eid)["notes"] == ""
    assert w.detail.notes_state.text().startswith("Not saved:")
    assert w.detail.notes_dirty() and w.undo_stack.count() == 0


def test_unsaved_notes_are_saved_when_the_selection_moves(qtbot, small_window, small_events):
    w = small_window
    a, b = small_events[1]["id"], small_events[2]["id"]
    w.select_ids([a])
    w.detail.notes_edit.setPlainText("typed, not saved")
    w.select_ids([b])
    assert w.store.get_event(a)["notes"] == "typed, not saved"
    assert w.detail.notes_edit.toPlainText() == "first ICBM"
