"""Issue 13 in the window: edit conflicts, undo that will not overwrite, refresh after another
process's write, the crash dialog and log, and closing while a job runs."""

from __future__ import annotations

import os
import re
import stat
import threading
import time

import pytest
from PySide6.QtCore import QTimer

from nkbrief import crashlog
from nkbrief.store import Store

EV = "2026-01-27-srbm-north-of-pyongyang"

#: The offscreen platform's own warnings (tests/ui/conftest.py OFFSCREEN_NOISE); pytest-qt
#: captures them, except when run with -s.
_OFFSCREEN = re.compile(r"^This plugin does not support (propagateSizeHints|raise)\(\)$")


def _stderr(capfd) -> str:
    """What was printed on stderr, without the offscreen platform's warnings."""
    err = capfd.readouterr().err
    return "".join(line for line in err.splitlines(keepends=True) if not _OFFSCREEN.match(line.rstrip("\n")))


@pytest.fixture
def other(small_store):
    """A second connection to the window's store, as another analyst's process would open it."""
    st = Store.open(small_store.path)
    st.user = "bob"
    yield st
    st.close()


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    d = tmp_path / "logs" / "nkbrief"
    monkeypatch.setattr(crashlog, "log_dir", lambda: d)
    return d


# ------------------------------------------------------------------ conflicts
@pytest.mark.parametrize("choice", ["mine", "theirs"])
def test_conflict_dialog_shows_both_values_and_the_analyst_chooses(small_window, small_store, other,
                                                                   monkeypatch, choice):
    from ui import conflict_dialog

    shown = []

    def fake_exec(dlg):
        shown.append({"text": dlg.findChild(conflict_dialog.QLabel, "conflict_summary").text(),
                      "rows": [[dlg.table.item(r, c).text() for c in range(3)] for r in range(dlg.table.rowCount())],
                      "header": dlg.table.horizontalHeaderItem(2).text()})
        (dlg.mine_button if choice == "mine" else dlg.theirs_button).click()
        return dlg.result()

    monkeypatch.setattr(conflict_dialog.ConflictDialog, "exec", fake_exec)
    version = small_store.event_version(EV)  # the analyst opens the edit dialog
    other.update_event(EV, {"count": 5, "landing_area": "Yellow Sea"})  # bob saves first
    ok = small_window.commit_edit(EV, {"count": 3, "outcome": "failure"}, version)

    assert len(shown) == 1
    d = shown[0]
    assert d["text"].startswith(f"{EV} was changed by bob at ") and d["text"].endswith(
        " since you opened it. Your edit was not saved.")
    assert d["header"] == "Theirs (bob)"
    assert d["rows"] == [["count", "3", "5"], ["outcome", "failure", "unknown"]]
    ev = small_store.get_event(EV)
    if choice == "mine":
        assert ok is True
        assert (ev["count"], ev["outcome"], ev["landing_area"]) == (3, "failure", "Yellow Sea")
        assert small_store.event_version(EV) == version + 2
        assert small_window.undo_stack.count() == 1
    else:
        assert ok is False
        assert (ev["count"], ev["outcome"], ev["landing_area"]) == (5, "unknown", "Yellow Sea")
        assert small_window.undo_stack.count() == 0
    audit = small_store.audit_frame(EV)
    refused = audit[audit["action"] == "refused"]
    assert list(zip(refused["field"], refused["new_value"])) == [("count", 3), ("outcome", "failure")]
    # the table shows what is stored now
    row = small_window.frame[small_window.frame["id"] == EV].iloc[0]
    assert row["count"] == ev["count"]


def test_edit_without_conflict_needs_no_dialog(small_window, small_store, monkeypatch):
    from ui import conflict_dialog

    monkeypatch.setattr(conflict_dialog.ConflictDialog, "exec", lambda dlg: pytest.fail("no conflict here"))
    version = small_store.event_version(EV)
    assert small_window.commit_edit(EV, {"count": 3}, version) is True
    assert small_store.event_version(EV) == version + 1


def test_conflict_dialog_screenshot_widget(qtbot, small_store, other):
    """The dialog itself, built from a real conflict (looked at under Xvfb too)."""
    from nkbrief.store import VersionConflict
    from ui.conflict_dialog import ConflictDialog

    v = small_store.event_version(EV)
    other.update_event(EV, {"count": 5})
    with pytest.raises(VersionConflict) as ei:
        small_store.edit_event(EV, {"count": 3, "sources": ["JCS", "Japan MoD"]}, if_version=v)
    dlg = ConflictDialog(ei.value)
    qtbot.addWidget(dlg)
    assert dlg.choice == "theirs"  # closing it keeps what is stored
    assert [dlg.table.item(1, c).text() for c in range(3)] == ["sources", "JCS\nJapan MoD", "(blank)"]


def test_undo_refuses_to_overwrite_a_later_change_by_someone_else(small_window, small_store, other, monkeypatch):
    import ui.app

    warnings = []
    monkeypatch.setattr(ui.app.QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    assert small_window.commit_edit(EV, {"count": 3}, small_store.event_version(EV))
    other.update_event(EV, {"count": 7})
    small_window.undo_stack.undo()
    assert small_store.get_event(EV)["count"] == 7  # bob's value stays
    assert len(warnings) == 1
    assert f"cannot undo “Edit count of {EV}”: count of event {EV!r} was changed by bob at " in warnings[0]
    assert warnings[0].endswith("since your edit, so it was not written over")
    assert small_window.undo_stack.count() == 0  # the step can no longer be undone: it left the stack
    audit = small_store.audit_frame(EV)
    assert list(audit[audit["action"] == "refused"]["new_value"]) == [2]  # the undo's attempt, audited


def test_undo_still_works_when_nobody_else_changed_the_field(small_window, small_store, other):
    assert small_window.commit_edit(EV, {"count": 3}, small_store.event_version(EV))
    other.update_event(EV, {"outcome": "failure"})  # another field
    small_window.undo_stack.undo()
    ev = small_store.get_event(EV)
    assert (ev["count"], ev["outcome"]) == (2, "failure")
    small_window.undo_stack.redo()
    assert small_store.get_event(EV)["count"] == 3


# ------------------------------------------------------------------ refresh
def test_window_refreshes_after_another_connection_writes_and_keeps_the_selection(qtbot, small_window, other):
    ids = ["2017-07-04-icbm-panghyon", EV]
    small_window.select_ids(ids, current=EV)
    small_window.detail.notes_edit.setPlainText("typed, not saved")
    other.update_event(EV, {"missile_name": "KN-25 (600 mm MRL)"})
    # the window's timer notices within about a second
    qtbot.waitUntil(lambda: "KN-25 (600 mm MRL)" in set(small_window.frame["missile_name"].dropna()), timeout=5000)
    assert list(small_window.selection.ids) == ids and small_window.selection.current == EV
    model = small_window.table.table_model
    assert "KN-25 (600 mm MRL)" in {model.index(r, c).data() for r in range(model.rowCount())
                                    for c in range(model.columnCount())}
    assert small_window.poll_store() is False  # nothing new since


def test_refresh_keeps_notes_being_typed(qtbot, small_window, other):
    small_window.select_ids([EV])
    small_window.detail.notes_edit.setPlainText("my unsaved note")
    assert small_window.detail.notes_dirty()
    other.update_event(EV, {"count": 4})
    assert small_window.poll_store() is True
    assert small_window.detail.notes_edit.toPlainText() == "my unsaved note"
    assert small_window.detail.notes_dirty()
    assert small_window.frame.set_index("id").loc[EV, "count"] == 4


def test_own_edits_do_not_count_as_another_process(small_window, small_store):
    small_store.update_event(EV, {"count": 4})
    assert small_window.poll_store() is False


# ------------------------------------------------------------------ crash dialog and log
@pytest.mark.qt_no_exception_capture
def test_exception_in_a_slot_shows_the_dialog_and_logs_the_traceback(qtbot, small_window, log_dir, capfd):
    from ui import crash

    reporter = crash.install(small_window)
    try:
        def broken_slot():
            raise ZeroDivisionError("the timeline divided by zero")

        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=5000)
        text = reporter.dialog.text()
        log = log_dir / "nkbrief.log"
        assert text == crash.message("ZeroDivisionError: the timeline divided by zero", str(log))
        assert "Nothing was lost" in text and str(log) in text and "Traceback" not in text
        content = log.read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" in content and "in broken_slot" in content
        assert "ZeroDivisionError: the timeline divided by zero" in content
        assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
        # a second error while the dialog is open: logged and counted, no second dialog
        first = reporter.dialog
        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: reporter.count == 2, timeout=5000)
        assert reporter.dialog is first and "1 more error" in first.informativeText()
        assert log.read_text(encoding="utf-8").count("ZeroDivisionError: the timeline") == 2
        # the window keeps running
        first.accept()
        small_window.select_ids([EV])
        small_window.reload()
        assert small_window.isVisible() and list(small_window.selection.ids) == [EV]
    finally:
        reporter.uninstall()
    err = _stderr(capfd)
    assert "Traceback" not in err and "ZeroDivisionError" not in err


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_thread_is_logged_and_shown(qtbot, small_window, log_dir, capfd):
    from ui import crash

    reporter = crash.install(small_window)
    try:
        t = threading.Thread(target=lambda: {}["missing"], name="probe")
        t.start()
        t.join()
        qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=5000)
        assert "in the background task probe: KeyError: 'missing'" in reporter.dialog.text()
        assert "KeyError: 'missing'" in (log_dir / "nkbrief.log").read_text(encoding="utf-8")
    finally:
        reporter.uninstall()
    assert "Traceback" not in _stderr(capfd)


def test_rotated_log_files_are_private_too(log_dir, monkeypatch):
    monkeypatch.setattr(crashlog, "MAX_BYTES", 2000)
    old = os.umask(0o022)
    try:
        for i in range(20):
            try:
                raise ValueError("x" * 300 + str(i))
            except ValueError as e:
                assert crashlog.log_exception(type(e), e, e.__traceback__) == log_dir / "nkbrief.log"
    finally:
        os.umask(old)
        import logging
        for h in list(logging.getLogger("nkbrief.crash").handlers):  # MAX_BYTES was read at creation
            logging.getLogger("nkbrief.crash").removeHandler(h)
            h.close()
    files = sorted(log_dir.iterdir())
    assert [f.name for f in files] == ["nkbrief.log", "nkbrief.log.1", "nkbrief.log.2", "nkbrief.log.3"]
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}


def test_a_failing_job_logs_its_traceback_and_says_where(qtbot, log_dir, capfd):
    from ui.workers import Worker, start

    def job(progress=None):
        return 1 / 0

    w = Worker(job)
    with qtbot.waitSignal(w.signals.failed, timeout=10_000) as sig:
        start(w)
    msg = sig.args[0]
    log = log_dir / "nkbrief.log"
    assert msg == f"unexpected error (ZeroDivisionError: division by zero); nothing was lost; the details are in {log}"
    assert "in job" in log.read_text(encoding="utf-8")
    assert "Traceback" not in _stderr(capfd)


def test_a_job_failure_phrased_for_the_analyst_is_passed_on_as_is(qtbot, log_dir):
    from nkbrief.store import StoreError
    from ui.workers import Worker, start

    def job(progress=None):
        raise StoreError("the store is locked")

    w = Worker(job)
    with qtbot.waitSignal(w.signals.failed, timeout=10_000) as sig:
        start(w)
    assert sig.args == ["the store is locked"]
    assert not (log_dir / "nkbrief.log").exists()


# ------------------------------------------------------------------ closing during a job
def _fresh_window(qtbot, store):
    from ui.app import MainWindow

    w = MainWindow(store, restore=False)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_closing_the_window_during_the_timing_analysis_prints_nothing(qtbot, seeded_store, capfd):
    import shiboken6

    from ui import workers

    capfd.readouterr()
    w = _fresh_window(qtbot, seeded_store)
    tv = w.timing_view
    tv.sims_combo.setCurrentIndex(tv.sims_combo.count() - 1)  # the longest run
    tv.set_active(True)
    tv.recompute()
    job = tv._worker
    assert job is not None and job in workers.running()
    qtbot.waitUntil(lambda: job.progress is not None and not job.done.is_set(), timeout=5000)
    w.close()
    assert job.done.is_set() and workers.running() == []  # cancelled and waited for
    w.deleteLater()
    qtbot.wait(300)  # let anything queued arrive (it must not reach the deleted window)
    assert not shiboken6.isValid(w)
    qtbot.wait(200)
    err = _stderr(capfd)
    assert err == "", err


def test_closing_during_a_job_that_reports_into_the_window(qtbot, small_store, capfd):
    """A job whose progress and result go to a widget of the window: after close and
    deletion, nothing arrives and nothing is printed."""
    import shiboken6
    from PySide6.QtWidgets import QLabel

    from ui.workers import Worker, start

    capfd.readouterr()
    w = _fresh_window(qtbot, small_store)
    label = QLabel(w)
    started = threading.Event()

    def job(progress=None):
        started.set()
        n, end = 0, time.monotonic() + 20
        while time.monotonic() < end:  # until cancelled: progress() raises Cancelled then
            n += 1
            progress(n, 0, f"step {n}")
            time.sleep(0.002)

    worker = Worker(job)
    worker.signals.progressed.connect(lambda d, t, s: label.setText(s))
    worker.signals.cancelled.connect(lambda: label.setText("cancelled"))
    start(worker)
    assert started.wait(10)
    qtbot.wait(50)
    w.close()
    assert worker.done.is_set()
    w.deleteLater()
    qtbot.wait(300)
    assert not shiboken6.isValid(label)
    assert _stderr(capfd) == ""


@pytest.mark.parametrize("poll_first", [True, False])
@pytest.mark.parametrize("choice", ["mine", "theirs"])
def test_saving_notes_over_notes_someone_else_changed_asks(small_window, small_store, other, monkeypatch,
                                                           choice, poll_first):
    from ui import conflict_dialog

    shown = []

    def fake_exec(dlg):
        shown.append([[dlg.table.item(r, c).text() for c in range(3)] for r in range(dlg.table.rowCount())])
        (dlg.mine_button if choice == "mine" else dlg.theirs_button).click()
        return dlg.result()

    monkeypatch.setattr(conflict_dialog.ConflictDialog, "exec", fake_exec)
    small_window.select_ids([EV])
    small_window.detail.notes_edit.setPlainText("mine: JCS said two")
    other.update_event(EV, {"notes": "bob: Japan said three"})
    if poll_first:  # the window noticed bob's change while the analyst was typing
        assert small_window.poll_store() is True
        assert small_window.detail.notes_edit.toPlainText() == "mine: JCS said two"
    small_window.detail.save_notes()
    assert shown == [[["notes", "mine: JCS said two", "bob: Japan said three"]]]
    want = "mine: JCS said two" if choice == "mine" else "bob: Japan said three"
    assert small_store.get_event(EV)["notes"] == want


def test_saving_notes_nobody_else_touched_needs_no_dialog(small_window, small_store, other, monkeypatch):
    from ui import conflict_dialog

    monkeypatch.setattr(conflict_dialog.ConflictDialog, "exec", lambda dlg: pytest.fail("no conflict here"))
    small_window.select_ids([EV])
    small_window.detail.notes_edit.setPlainText("mine")
    other.update_event(EV, {"count": 4})  # another field
    assert small_window.poll_store() is True
    small_window.detail.save_notes()
    assert small_store.get_event(EV)["notes"] == "mine"
    small_window.undo_stack.undo()
    assert small_store.get_event(EV)["notes"] == ""


def test_undoing_an_add_refuses_to_delete_what_someone_else_changed(small_window, small_store, monkeypatch):
    import ui.app
    from nkbrief.model import schema
    from ui import undo

    warnings = []
    monkeypatch.setattr(ui.app.QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    ev = schema.empty_event() | {"id": "2026-05-01-srbm-test", "date": "2026-05-01", "missile_class": "SRBM"}
    undo.push(small_window.undo_stack, undo.AddEventCommand(small_store, ev))
    with Store.open(small_store.path) as bob:
        bob.user = "bob"
        bob.update_event(ev["id"], {"count": 2})
    small_window.undo_stack.undo()
    assert small_store.get_event(ev["id"])["count"] == 2  # still there, with bob's change
    assert len(warnings) == 1 and "was changed by bob at " in warnings[0]
    assert warnings[0].startswith(f"The store refused the change: cannot undo “Add {ev['id']}”: ")


def test_redoing_a_delete_refuses_when_the_restored_event_changed(small_window, small_store, monkeypatch):
    import ui.app
    from ui import undo

    warnings = []
    monkeypatch.setattr(ui.app.QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    undo.push(small_window.undo_stack, undo.DeleteEventsCommand(small_store, [EV]))
    small_window.undo_stack.undo()  # back again
    assert small_store.has_event(EV)
    small_window.undo_stack.redo()  # nobody changed it: deleted again
    assert not small_store.has_event(EV)
    small_window.undo_stack.undo()
    with Store.open(small_store.path) as bob:
        bob.user = "bob"
        bob.update_event(EV, {"count": 9})
    small_window.undo_stack.redo()
    assert small_store.get_event(EV)["count"] == 9
    assert len(warnings) == 1 and "was changed by bob at " in warnings[0]


def test_closing_the_window_during_an_import_is_all_or_nothing_and_silent(qtbot, small_store, tmp_path, capfd):
    """The import's apply job is cancelled and waited for: the store holds all of the import
    or none of it (never part), and nothing reaches stderr."""
    import shiboken6

    from ui import workers

    n = 20_000
    rows = ["Date,Class,Site,Count"] + [f"{2000 + i // 3650}-{1 + i // 300 % 12:02d}-{1 + i % 28:02d},"
                                        f"SRBM,Test site {i},1" for i in range(n)]
    csv = tmp_path / "big.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    capfd.readouterr()
    w = _fresh_window(qtbot, small_store)
    before = small_store.event_count()
    dlg = w.import_files([str(csv)])
    qtbot.waitUntil(lambda: dlg.import_button.isEnabled(), timeout=120_000)
    dlg.import_button.click()
    job = dlg._worker
    assert job is not None and job in workers.running()
    w.close()
    assert job.done.is_set() and workers.running() == []
    after = small_store.event_count()
    new = dlg.plan.counts()["new"]
    assert new > 1000
    assert after in (before, before + new), (before, after, new)  # all or nothing
    w.deleteLater()
    qtbot.wait(300)
    assert not shiboken6.isValid(w)
    assert _stderr(capfd) == ""


def test_refresh_after_another_process_deleted_the_selected_event(qtbot, small_window, other):
    keep = "2017-07-04-icbm-panghyon"
    small_window.select_ids([keep, EV], current=EV)
    other.delete_event(EV)
    assert small_window.poll_store() is True
    assert EV not in set(small_window.frame["id"])
    assert keep in small_window.selection.ids
    small_window.select_ids([keep])  # the window still works
    assert small_window.detail.shown_event["id"] == keep


def test_closing_the_window_during_a_pack_build_leaves_no_partial_file(qtbot, seeded_store, tmp_path, capfd):
    import shiboken6

    from ui import workers
    from ui.pack_dialog import open_pack_dialog

    capfd.readouterr()
    w = _fresh_window(qtbot, seeded_store)
    dlg = open_pack_dialog(w, list(w.visible_event_ids()))
    (tmp_path / "out").mkdir()
    dest = tmp_path / "out" / "brief.xlsx"
    dlg.path_edit.setText(str(dest))
    assert dlg.build()
    job = dlg._worker
    assert job is not None and job in workers.running()
    w.close()
    assert job.done.is_set() and workers.running() == []
    leftovers = [p.name for p in dest.parent.iterdir() if p.name != dest.name]
    assert leftovers == []  # no temporary or partial file beside the destination
    if dest.exists():  # the build won the race: then it is a whole workbook
        import zipfile

        assert zipfile.is_zipfile(dest)
    w.deleteLater()
    qtbot.wait(300)
    assert not shiboken6.isValid(w)
    assert _stderr(capfd) == ""
