"""The import dialog driven through Qt: preview, mapping change, conflict choice, import, undo;
and its window hooks (menus, drag and drop, Edit > Undo import, File > Export dataset)."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QComboBox, QFileDialog, QMessageBox

from nkbrief.importing import importer
from ui.import_dialog import REJECTED_BG, ImportDialog

SEED = "2026-01-27-srbm-north-of-pyongyang"
CSV = ("Date,Time (KST),Type,Number,Flight,Launch site,Analyst\n"
       "2026-01-27,15:50,SRBM,2,340 km,North of Pyongyang,Kim\n"
       "2026-05-01,06:10,SRBM,3,600 km,Sinpo,Lee\n"
       "2026-02-30,09:00,SRBM,1,100 km,Wonsan,Park\n")


def _dump(store):
    cur = store._execute("SELECT * FROM events ORDER BY id")
    # without the bookkeeping: when each row was written and its version (an undo is a change too)
    keep = [i for i, d in enumerate(cur.description) if d[0] not in ("updated_utc", "version")]
    ev = [tuple(r[i] for i in keep) for r in cur.fetchall()]
    mi = [tuple(r) for r in store._execute("SELECT * FROM missiles ORDER BY id").fetchall()]
    return ev, mi


@pytest.fixture
def colleague_csv(tmp_path):
    p = tmp_path / "colleague.csv"
    p.write_text(CSV, encoding="utf-8")
    return p


@pytest.fixture(autouse=True)
def _drain_pool():
    yield
    QThreadPool.globalInstance().waitForDone(20000)


def _map_combo(dlg, header) -> QComboBox:
    t = dlg.mapping_table
    row = next(r for r in range(t.rowCount()) if t.item(r, 0).text() == header)
    return t.cellWidget(row, 2)


def test_preview_mapping_conflict_import_undo(qtbot, small_store, colleague_csv):
    before = _dump(small_store)
    dlg = ImportDialog(small_store, [str(colleague_csv)])
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.checked, timeout=20000):
        dlg.show()

    # detected format, encoding, header row
    assert dlg.format_label.text() == "comma-separated text, header on row 1"
    assert dlg.encoding_label.text() == "UTF-8"
    assert dlg.counts_label.text() == "3 rows: 2 accepted, 1 rejected, 0 skipped → 2 events"
    # preview: file rows, the rejected one highlighted with its reason
    t = dlg.preview_table
    assert t.rowCount() == 3
    assert [t.item(r, 1).text() for r in range(3)] == ["ok", "ok", "rejected"]
    assert t.item(2, 0).background().color() == REJECTED_BG
    assert t.item(2, 3).toolTip() == "row 4: Date '2026-02-30' is not a date"
    assert dlg.parsed_table.rowCount() == 2
    # validation report
    r = dlg.rejections_table
    assert [r.item(0, c).text() for c in range(4)] == ["4", "Date", "2026-02-30", "is not a date"]
    assert dlg.tabs.tabText(2) == "Validation (1 rejected)"

    # 'Flight' is not a known header: kept in notes until the analyst maps it
    combo = _map_combo(dlg, "Flight")
    assert combo.currentData() == ""
    seed_in = dlg.parsed.incoming[0].event
    assert seed_in["distance_km"] is None and "Colleague column 'Flight': 340 km" in seed_in["notes"]
    with qtbot.waitSignal(dlg.checked, timeout=20000):
        combo.setCurrentIndex(combo.findData("distance_km"))
        combo.activated.emit(combo.currentIndex())
    assert dlg.parsed.incoming[0].event["distance_km"] == 340.0
    assert _map_combo(dlg, "Flight").currentData() == "distance_km"

    # merge: the seed-day event conflicts field by field
    (conflict,) = dlg.plan.conflicts()
    assert conflict.existing_id == SEED and conflict.diffs["distance_km"] == (350.0, 340.0)
    top = dlg.conflict_tree.topLevelItem(0)
    fields = [top.child(i).text(0) for i in range(top.childCount())]
    assert "Distance (km)" in fields
    choice = dlg.conflict_tree.itemWidget(top, 3)
    assert choice.currentData() == "keep_mine"
    choice.setCurrentIndex(choice.findData("take_theirs"))
    choice.activated.emit(choice.currentIndex())
    assert dlg.resolutions() == {conflict.index: "take_theirs"}
    assert dlg.import_button.text() == "Import (1 new, 1 updated)"

    # import
    with qtbot.waitSignal(dlg.import_finished, timeout=20000) as sig:
        qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    res = sig.args[0]
    assert (res.added, res.took_theirs, res.kept_mine) == (1, 1, 0)
    assert small_store.get_event(SEED)["distance_km"] == 340.0
    assert small_store.has_event("2026-05-01-srbm-sinpo")
    assert dlg.undo_button.isEnabled() and not dlg.import_button.isEnabled()
    assert small_store.batches_frame().iloc[-1]["file_name"] == "colleague.csv"

    # undo: exactly the state before
    with qtbot.waitSignal(dlg.import_undone, timeout=20000):
        qtbot.mouseClick(dlg.undo_button, Qt.MouseButton.LeftButton)
    assert _dump(small_store) == before
    # not offered again straight away (the analyst undid it on purpose)
    assert not dlg.import_button.isEnabled() and dlg.message.text().startswith("Undid import")


def test_save_rejected_rows(qtbot, small_store, colleague_csv, tmp_path, monkeypatch):
    dlg = ImportDialog(small_store, [str(colleague_csv)])
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.checked, timeout=20000):
        dlg.show()
    out = tmp_path / "back.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV (*.csv)"))
    qtbot.mouseClick(dlg.save_rejected_button, Qt.MouseButton.LeftButton)
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["File row", "Problem", "Date", "Time (KST)", "Type", "Number", "Flight", "Launch site",
                     "Analyst"],
                    ["4", "Date '2026-02-30' is not a date", "2026-02-30", "09:00", "SRBM", "1", "100 km",
                     "Wonsan", "Park"]]


def test_unreadable_file_shows_one_message(qtbot, small_store, tmp_path):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    dlg = ImportDialog(small_store, [str(p)])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.error is not None, timeout=20000)
    assert dlg.message.text() == "empty.csv: the file is empty"
    assert not dlg.import_button.isEnabled()


def _gated(monkeypatch, name):
    """Hold the dialog's job ``name`` at a gate until the test opens it, so a Cancel click
    always lands while the job runs (a fast machine used to finish the check between polls)."""
    import threading

    import ui.import_dialog as mod

    gate = threading.Event()
    real = getattr(mod, name)

    def held(*args, **kwargs):
        assert gate.wait(60), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(mod, name, held)
    return gate


def test_cancel_a_big_import_changes_nothing(qtbot, small_store, tmp_path, monkeypatch):
    p = tmp_path / "big.csv"
    rows = "\n".join(f"{1990 + i % 30}-{1 + i % 12:02d}-{1 + i % 28:02d},SRBM,Site {i}" for i in range(30000))
    p.write_text("Date,Type,Launch site\n" + rows + "\n", encoding="utf-8")
    before = _dump(small_store)
    check_gate = _gated(monkeypatch, "check_job")
    dlg = ImportDialog(small_store, [str(p)])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.progress.isVisible(), timeout=20000)
    assert dlg.cancel_button.text() == "Cancel"
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    assert dlg.message.text() == "Cancelled; nothing was imported."
    assert not dlg.progress.isVisible()
    check_gate.set()  # the cancelled check now runs and must stop at its first progress call
    QThreadPool.globalInstance().waitForDone(20000)
    qtbot.wait(50)  # let any late signal arrive: it must not change the message
    assert dlg.message.text() == "Cancelled; nothing was imported."
    assert _dump(small_store) == before
    # and cancelling the write itself rolls it back
    with qtbot.waitSignal(dlg.checked, timeout=30000):
        dlg.recheck()
    batches = len(small_store.batches_frame())
    apply_gate = _gated(monkeypatch, "apply_job")
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    assert dlg.cancel_button.text() == "Cancel"
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    apply_gate.set()
    QThreadPool.globalInstance().waitForDone(30000)
    qtbot.wait(50)
    assert dlg.message.text() == "Cancelled; nothing was imported."
    assert _dump(small_store) == before and len(small_store.batches_frame()) == batches


def test_big_file_preview_import_undo(qtbot, small_store, tmp_path):
    """A file large enough to be read as columns and kept as an EventBlock: the dialog shows
    its first rows, the rejected one among them, imports the rest, and undo takes it back."""
    from nkbrief.importing.incoming import EventBlock

    p = tmp_path / "big.csv"
    rows = [f"{1990 + i % 30}-{1 + i % 12:02d}-{1 + i % 28:02d},SRBM,\"Site, {i}\",{100 + i % 19000} km" for i in range(30000)]
    rows[7] = "1999-02-30,SRBM,Wonsan,100 km"
    p.write_text("Date,Type,Launch site,Distance\n" + "\n".join(rows) + "\n", encoding="utf-8")
    before = _dump(small_store)
    dlg = ImportDialog(small_store, [str(p)])
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.checked, timeout=60000):
        dlg.show()
    assert isinstance(dlg.parsed.incoming, EventBlock)
    assert dlg.counts_label.text() == "30,000 rows: 29,999 accepted, 1 rejected, 0 skipped → 29,999 events"
    t = dlg.preview_table
    assert t.rowCount() == importer.PREVIEW_ROWS
    assert t.item(7, 1).text() == "rejected" and t.item(8, 1).text() == "ok"
    assert dlg.parsed_table.rowCount() == importer.PREVIEW_ROWS
    assert len(dlg.parsed.incoming.built) <= importer.PREVIEW_ROWS + 1  # built only what is shown
    with qtbot.waitSignal(dlg.import_finished, timeout=60000) as sig:
        qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].added == 29999
    assert small_store.get_event("1990-01-01-srbm-site-0")["launch_site"] == "Site, 0"
    with qtbot.waitSignal(dlg.import_undone, timeout=60000):
        qtbot.mouseClick(dlg.undo_button, Qt.MouseButton.LeftButton)
    assert _dump(small_store) == before


def test_window_menus_drop_undo_and_export(qtbot, small_window, colleague_csv, tmp_path, monkeypatch):
    from ui.app import FEATURE_MODULES

    w = small_window
    assert "ui.import_actions" in FEATURE_MODULES
    assert w.import_action in w.menus["File"].actions()
    assert w.export_dataset_action in w.menus["File"].actions()
    assert w.undo_import_action in w.menus["Edit"].actions()
    assert w.import_action in w.toolbar.actions()

    # a file dropped on the window opens the dialog on it
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(colleague_csv))])
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    w.dropEvent(drop)
    dlg = w.import_dialog
    qtbot.waitUntil(lambda: dlg.parsed is not None, timeout=20000)
    assert dlg.current_path() == str(colleague_csv)
    with qtbot.waitSignal(dlg.import_finished, timeout=20000):
        qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "2026-05-01-srbm-sinpo" in set(w.frame["id"]), timeout=20000)
    dlg.close()

    # Edit > Undo import, after confirming
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    w.undo_import_action.trigger()
    assert asked and asked[0].startswith("Undo import ") and "colleague.csv" in asked[0]
    qtbot.waitUntil(lambda: "2026-05-01-srbm-sinpo" not in set(w.frame["id"]), timeout=20000)
    assert importer.last_undoable_batch(w.store) is None

    # File > Export dataset
    out = tmp_path / "all.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "JSON (*.json)"))
    w.export_dataset_action.trigger()
    qtbot.waitUntil(out.exists, timeout=20000)
    QThreadPool.globalInstance().waitForDone(20000)
    pf = importer.read_file(out)
    assert pf.kind == "nkbrief" and len(pf.incoming) == w.store.event_count()


def test_ambiguous_slash_dates_ask_day_or_month_first(qtbot, small_store, tmp_path):
    p = tmp_path / "slash.csv"
    p.write_text("Date,Type\n03/04/2026,SRBM\n05/06/2026,SRBM\n", encoding="utf-8")
    dlg = ImportDialog(small_store, [str(p)])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.error is not None, timeout=20000)
    assert "'03/04/2026' (row 2) can be read day first (3 April) or month first (March 4)" in dlg.message.text()
    assert "Slash dates" in dlg.message.text() and not dlg.import_button.isEnabled()
    with qtbot.waitSignal(dlg.checked, timeout=20000):
        dlg.set_date_order("dmy")
    assert [inc.event["date"] for inc in dlg.parsed.incoming] == ["2026-04-03", "2026-06-05"]
    assert dlg.import_button.isEnabled()
    with qtbot.waitSignal(dlg.checked, timeout=20000):
        dlg.set_date_order("mdy")
    assert [inc.event["date"] for inc in dlg.parsed.incoming] == ["2026-03-04", "2026-05-06"]


def test_possible_duplicate_is_shown_and_not_added_unless_chosen(qtbot, small_store, tmp_path):
    p = tmp_path / "nosite.csv"
    p.write_text("Date,Missile,Type\n2026-01-27,KN-25,SRBM\n", encoding="utf-8")
    n = small_store._execute("SELECT count(*) FROM events").fetchone()[0]
    dlg = ImportDialog(small_store, [str(p)])
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.checked, timeout=20000):
        dlg.show()
    assert dlg.tabs.tabText(3) == "Merge (0 conflicts, 1 possible duplicate)"
    assert "1 possible duplicates (0 to be added)" in dlg.message.text()
    assert "1 rows arrive with no confirmation" in dlg.message.text()
    top = dlg.conflict_tree.topLevelItem(0)
    assert top.text(1).startswith(f"possible duplicate of {SEED}")
    combo = dlg.conflict_tree.findChild(QComboBox, "choice_0")
    assert combo.currentText() == "Same launch: keep mine"
    with qtbot.waitSignal(dlg.import_finished, timeout=20000) as blocker:
        dlg.start_import()
    assert blocker.args[0].added == 0 and blocker.args[0].kept_both == 0
    assert small_store._execute("SELECT count(*) FROM events").fetchone()[0] == n

    dlg2 = ImportDialog(small_store, [str(p)])
    qtbot.addWidget(dlg2)
    with qtbot.waitSignal(dlg2.checked, timeout=20000):
        dlg2.show()
    dlg2.set_resolution(0, "keep_both")
    assert dlg2.import_button.text() == "Import (1 new)"
    with qtbot.waitSignal(dlg2.import_finished, timeout=20000) as blocker:
        dlg2.start_import()
    assert blocker.args[0].kept_both == 1
    assert small_store._execute("SELECT confirmation FROM events WHERE batch_id = ?",
                               (blocker.args[0].batch_id,)).fetchone()[0] == "not stated"
