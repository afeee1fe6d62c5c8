"""The window on a team store (issue 18): offline copies pulled and pushed from the window with
the import's merge review, read-only mode, the open store named, a lost connection said once,
and another process's import seen within 2 s with the selection kept.

The store is a file, and a database on the PostgreSQL test server (STORE_ENGINES); the
read-only test there logs in with a role granted nkbrief_reader."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtWidgets import QMessageBox

from nkbrief.jobs import sync
from nkbrief.store import Store, StoreError

from tests.ui.conftest import SMALL_EVENTS, _make_window, fill_small

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "main.py")
A, B = SMALL_EVENTS[1]["id"], SMALL_EVENTS[8]["id"]
READER = "your role nkbrief_reader may read the team store but not change it"


STORE_ENGINES = ("sqlite", "postgresql")


@pytest.fixture
def server(store_target):
    """A store holding the small hand-made events (a file, or a database on the PostgreSQL
    test server): its target."""
    target = store_target(seed=False, name="server")
    with Store.open(target, seed=False) as st:
        fill_small(st)
    return target


def test_pull_offline_edit_and_push_with_a_conflict_resolved_in_the_review(qtbot, server, tmp_path, colleague):
    from ui import sync_actions

    as_colleague, name = colleague
    home = tmp_path / "home.sqlite3"
    st = Store.open(home)
    w = _make_window(qtbot, st)
    assert w.push_action in w.menus["File"].actions() and w.pull_action in w.menus["File"].actions()
    assert not w.push_action.isEnabled()  # not an offline copy
    copy = tmp_path / "copy.sqlite3"
    dlg = sync_actions.open_pull_dialog(w)
    dlg.source_edit.setText(server)
    dlg.dest_edit.setText(str(copy))
    with qtbot.waitSignal(dlg.pulled, timeout=30000):
        dlg.start_pull()
    qtbot.waitUntil(lambda: Path(str(w.store.path)) == copy, timeout=5000)
    assert w.status_store.text().startswith(f"offline copy of {sync.short_label(server)} (pulled ")
    assert sync.target_label(server) in w.status_store.toolTip()
    assert "offline copy of" in w.windowTitle() and w.push_action.isEnabled()
    assert sorted(w.visible_event_ids()) == sorted(e["id"] for e in SMALL_EVENTS)

    # offline: one edit only here, one also made on the server by a colleague
    w.select_ids([B])
    assert w.commit_edit(A, {"notes": "offline note"}, w.store.event_version(A))
    assert w.commit_edit(B, {"count": 4}, w.store.event_version(B))
    with as_colleague(server) as srv:
        srv.update_event(B, {"count": 3, "notes": "server note"})

    w.push_action.trigger()
    pd = w.push_dialog
    qtbot.waitUntil(lambda: pd.plan is not None, timeout=30000)
    tree = pd.review.conflict_tree
    assert tree.topLevelItemCount() == 1
    top = tree.topLevelItem(0)
    assert top.text(0).startswith(SMALL_EVENTS[8]["date"]) and top.text(1).startswith(f"{name}, ")
    assert top.toolTip(0).startswith(f"{B}: changed on the server by {name} at ")
    assert [(top.child(i).text(1), top.child(i).text(2)) for i in range(top.childCount())] == [("3", "4")]
    assert not pd.push_button.isEnabled()  # the conflict is not decided yet
    combo = tree.itemWidget(top, 3)
    assert combo.currentIndex() == -1 and combo.itemText(combo.findData("take_theirs")) == "Take mine (offline copy)"
    (idx,) = [r.item.index for r in pd.plan.reviews]
    pd.set_resolution(idx, "take_theirs")
    assert pd.push_button.isEnabled()
    with qtbot.waitSignal(pd.pushed, timeout=60000) as sig:
        pd.start_push()
    res = sig.args[0]
    assert res.refreshed and res.imported.took_theirs == 2
    assert "pulled again" in pd.message.text()
    with Store.open(server, seed=False) as srv:
        b = srv.get_event(B)
        assert b["count"] == 4 and b["notes"] == "server note" and srv.get_event(A)["notes"] == "offline note"
        versions = srv.event_versions()
    # the window shows the new copy, which knows the server's state; the selection is kept
    assert sync.origin(w.store).versions == versions
    assert list(w.selection.ids) == [B] and w.detail.shown_event["count"] == 4
    assert w.undo_stack.count() == 0
    w.close()
    w.store.close()


def test_read_only_store_filters_and_builds_packs_but_every_edit_is_off(qtbot, server, store_engine, request,
                                                                        tmp_path, monkeypatch, warnings_shown):
    from ui import pack_dialog

    monkeypatch.setattr(pack_dialog, "open_file", lambda p: True)
    if store_engine == "postgresql":  # a real login granted nkbrief_reader
        role = request.getfixturevalue("pg_role")(member_of=("nkbrief_reader",))
        st = Store.open(role.url(server))
        assert st.read_only_reason and role.name in st.read_only_reason
    else:
        st = Store.open(server, seed=False)
        st.read_only_reason = READER
    why = st.read_only_reason
    w = _make_window(qtbot, st)
    assert w.read_only_reason == why and w.status_store.text().endswith("· read-only")
    assert "read-only" in w.windowTitle()
    tip = f"Read-only: {why}"
    for a in (w.add_action, w.edit_action, w.delete_action, w.import_action, w.undo_import_action):
        assert not a.isEnabled() and a.toolTip() == tip, a.text()
    # selection still works, and does not turn edit and delete back on
    w.select_ids([A])
    assert list(w.selection.ids) == [A] and w.detail.shown_event["id"] == A
    assert not w.edit_action.isEnabled() and not w.delete_action.isEnabled()
    assert w.detail.notes_edit.isReadOnly() and w.detail.notes_edit.toolTip() == tip
    assert not w.edit_event(A) and not w.delete_events([A], confirm=False) and w.add_event() is None
    assert w.statusBar().currentMessage() == tip
    w.import_files([str(tmp_path / "x.csv")])
    assert getattr(w, "import_dialog", None) is None
    # filtering works
    w.filter_bar.search.setText("Hwasong")
    qtbot.waitUntil(lambda: 0 < len(w.visible_event_ids()) < len(SMALL_EVENTS), timeout=5000)
    # the calendar editor opens, without its editing buttons
    from ui.calendar_editor import CalendarEditor

    ed = CalendarEditor(w.store, w.undo_stack, w)
    qtbot.addWidget(ed)
    ed.table.selectRow(0)
    assert not any(b.isEnabled() for b in (ed.add_button, ed.edit_button, ed.delete_button, ed.import_button))
    assert ed.add_button.toolTip() == tip and ed.export_button.isEnabled()
    # a pack is built
    w.select_ids([A, B])
    dlg = pack_dialog.open_pack_dialog(w)
    dlg.path_edit.setText(str(tmp_path / "ro.xlsx"))
    with qtbot.waitSignal(dlg.pack_built, timeout=30000):
        dlg.build()
    assert len(openpyxl.load_workbook(tmp_path / "ro.xlsx").sheetnames) > 1
    dlg.close()
    assert warnings_shown == []
    w.close()
    st.close()


def test_a_lost_connection_is_reported_once_not_per_poll(qtbot, small_window, warnings_shown, monkeypatch):
    w = small_window
    w.select_ids([A])

    def lost():
        raise StoreError("the team server db.cell stopped answering (connection refused)")

    monkeypatch.setattr(w.store, "data_version", lost)
    for _ in range(3):
        assert not w.poll_store()
    assert len(warnings_shown) == 1 and "stopped answering" in warnings_shown[0]
    assert w.status_store.text() == "store: connection lost"
    monkeypatch.undo()
    assert w.poll_store()  # back: reloaded, in case something changed meanwhile
    assert list(w.selection.ids) == [A] and "answers again" in w.statusBar().currentMessage()
    assert len(warnings_shown) == 1


def test_another_process_import_is_seen_within_2_seconds_selection_kept(qtbot, server, tmp_path):
    csv = tmp_path / "colleague.csv"
    csv.write_text("date,class,site,count,source\n2026-11-30,SRBM,Sunan,2,colleague report\n", encoding="utf-8")
    st = Store.open(server, seed=False)
    w = _make_window(qtbot, st)
    w.select_ids([A])
    n = len(w.visible_event_ids())
    r = subprocess.run([sys.executable, MAIN, "--db", server, "import", str(csv)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    done = time.monotonic()
    qtbot.waitUntil(lambda: len(w.visible_event_ids()) == n + 1, timeout=2000)
    seen = time.monotonic() - done
    assert seen < 2.0
    assert list(w.selection.ids) == [A] and w.detail.shown_event["id"] == A
    w.close()
    st.close()


def test_a_stopped_server_is_reported_once_and_the_window_reconnects(qtbot, store_engine, request,
                                                                     warnings_shown, monkeypatch):
    if store_engine != "postgresql":
        pytest.skip("a server that stops is the team store's")
    from nkbrief.store.admin import init_server
    from ui.app import MainWindow

    pg = request.getfixturevalue("pg_private_server")
    url = pg.create_database()
    init_server(url)
    with Store.open(url) as st:
        fill_small(st)
    st = Store.open(url)
    w = _make_window(qtbot, st)
    w.select_ids([A])
    pg.stop()
    for _ in range(3):
        assert not w.poll_store()
    assert len(warnings_shown) == 1 and "lost" in warnings_shown[0] and "Traceback" not in warnings_shown[0]
    assert w.status_store.text() == "store: connection lost"
    pg.start()
    monkeypatch.setattr(MainWindow, "RECONNECT_S", 0.0)
    w._reconnect_at = 0.0
    qtbot.waitUntil(lambda: w._store_lost is None, timeout=10000)
    assert w.store is not st and list(w.selection.ids) == [A]
    assert "answers again" in w.statusBar().currentMessage() and len(warnings_shown) == 1
    with Store.open(url) as other:  # and it follows changes again
        other.update_event(B, {"notes": "after the restart"})
    qtbot.waitUntil(lambda: w.poll_store() or w.frame.loc[w.frame["id"] == B, "notes"].iloc[0] ==
                    "after the restart", timeout=5000)
    w.close()
    w.store.close()


def test_opening_a_team_store_that_cannot_be_opened_is_one_dialog(qtbot, store_engine, request, monkeypatch,
                                                                  capsys):
    if store_engine != "postgresql":
        pytest.skip("the team store's bad cases")
    import argparse

    from ui import app as app_mod

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a: shown.append(text))
    pg = request.getfixturevalue("pg_private_server")
    url = pg.create_database()
    stranger = request.getfixturevalue("pg_role")(password=None, server=pg)
    pg.stop()
    cases = [url, stranger.url(url)]
    assert app_mod.run_gui(argparse.Namespace(db=cases[0], screenshot=None, select=None)) == 1
    pg.start()
    assert app_mod.run_gui(argparse.Namespace(db=cases[1], screenshot=None, select=None)) == 1
    # an empty database: no nkbrief tables (the administrator has not run init-server)
    assert app_mod.run_gui(argparse.Namespace(db=url, screenshot=None, select=None)) == 1
    assert len(shown) == 3 and all("\n" not in s and "Traceback" not in s for s in shown)
    assert "cannot reach" in shown[0] and "refused the login" in shown[1]
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 3
