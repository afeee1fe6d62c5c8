"""Offline copies (issue 18): sync pull, offline edits, sync push through the import's merge
and review. The store pulled from is a file, and a database on the PostgreSQL test server
(STORE_ENGINES): the Store API is the same."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nkbrief.jobs import sync
from nkbrief.model import schema
from nkbrief.store import Store, StoreError

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "main.py")
A = "2026-08-20-srbm-pyongyang-area"
B = "2026-09-20-unknown-east-coast-of-north-korea-1500"
C = "2026-10-03-unknown-east-coast-of-north-korea"


STORE_ENGINES = ("sqlite", "postgresql")


@pytest.fixture
def server(store_target):
    """The store an offline copy is pulled from (a file, or a database on the PostgreSQL test
    server): its target, seeded from the bundled dataset."""
    return store_target(seed=True, name="server")


def _open(target) -> Store:
    return Store.open(target, seed=False)


def _pulled(server, tmp_path) -> Path:
    copy = tmp_path / "copy.sqlite3"
    sync.pull(server, copy)
    return copy


def test_pull_copies_everything_and_remembers_where_and_when(server, tmp_path):
    copy = _pulled(server, tmp_path)
    with _open(server) as srv, _open(copy) as loc:
        assert loc.event_ids() == srv.event_ids()
        for eid in sorted(srv.event_ids()):
            assert loc.get_event(eid) == srv.get_event(eid), eid
            assert loc.missiles(eid) == srv.missiles(eid), eid
            assert loc.statements(eid) == srv.statements(eid), eid
        cal = srv.calendar_frame()["id"].tolist()
        assert loc.calendar_frame()["id"].tolist() == cal
        assert all(loc.get_calendar_entry(i) == srv.get_calendar_entry(i) for i in cal)
        o = sync.origin(loc)
        assert o is not None and o.versions == srv.event_versions()
        assert o.source == sync.target_label(server)
        assert sync.read_changes(loc).empty
        assert sync.origin(srv) is None


def test_a_password_in_the_url_is_never_recorded():
    assert sync.target_label("postgresql://ana:s3cret@db.cell/nk?sslmode=require") == \
        "postgresql://ana@db.cell/nk?sslmode=require"
    assert "s3cret" not in sync.target_label("postgresql://db/nk?password=s3cret&sslmode=verify-full")
    assert "s3cret" not in sync.target_label("service=nk password=s3cret")
    assert sync.is_server("service=nkteam") and sync.is_server("postgresql://db/nk")
    assert not sync.is_server("/home/ana/copy.sqlite3")
    assert sync.short_label("postgresql://ana@db.cell:5433/nk%20team?passfile=/x") == "nk team on db.cell:5433"
    assert sync.short_label("service=nkteam") == "service nkteam"
    assert sync.short_label("/home/ana/server.sqlite3") == "server.sqlite3"


def test_pull_refuses_to_replace_unpushed_work_unless_forced(server, tmp_path):
    copy = _pulled(server, tmp_path)
    with _open(copy) as loc:
        loc.update_event(A, {"notes": "offline note"})
    before = copy.read_bytes()
    with pytest.raises(sync.SyncError, match="holds changes not pushed yet .*1 event edited.*--force"):
        sync.pull(server, copy)
    assert copy.read_bytes() == before
    sync.pull(server, copy, force=True)
    with _open(copy) as loc:
        assert loc.get_event(A)["notes"] != "offline note"
        assert sync.read_changes(loc).empty


def test_pull_refuses_a_store_that_is_not_an_offline_copy(server, tmp_path, _seeded_template):
    mine = tmp_path / "mine.sqlite3"
    shutil.copyfile(_seeded_template, mine)
    before = mine.read_bytes()
    with pytest.raises(sync.SyncError, match="is a store that is not an offline copy"):
        sync.pull(server, mine)
    assert mine.read_bytes() == before


def test_pull_from_a_missing_file_creates_nothing(tmp_path):
    with pytest.raises(sync.SyncError, match="there is no store at"):
        sync.pull(tmp_path / "typo.sqlite3", tmp_path / "copy.sqlite3")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_failed_pull_leaves_the_old_copy_and_no_temporary_file(server, tmp_path, monkeypatch):
    copy = _pulled(server, tmp_path)
    before = copy.read_bytes()

    def broken(path, *a, **k):
        Path(path).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sync, "_write_copy", broken)
    with pytest.raises(sync.SyncError, match="cannot write the offline copy .*No space left"):
        sync.pull(server, copy, force=True)
    assert copy.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_pull_offline_edit_and_push_with_a_conflict_resolved_in_the_review(server, tmp_path, colleague):
    as_colleague, name = colleague
    copy = _pulled(server, tmp_path)
    with _open(copy) as loc:
        loc.update_event(A, {"notes": "offline note"})  # only in the copy: goes in as it is
        loc.update_event(B, {"count": 3})  # also changed on the server: a conflict
    with as_colleague(server) as srv:
        srv.update_event(B, {"count": 2, "notes": "server note"})
        batches_before = len(srv.batches_frame())
    plan = sync.review(copy)
    assert [(r.event_id, list(r.item.diffs)) for r in plan.reviews] == [(B, ["count"])]
    (r,) = plan.reviews
    assert r.user == name and f"changed on the server by {name} at " in r.why
    assert r.item.diffs["count"] == (2, 3)
    assert list(plan.automatic.values()) == ["take_theirs"]
    with pytest.raises(sync.SyncError, match="need.* your decision"):
        sync.push(copy)
    with _open(server) as srv:
        assert len(srv.batches_frame()) == batches_before and srv.get_event(A)["notes"] != "offline note"
    res = sync.push(copy, chosen={r.item.index: "take_theirs"}, reviewed=plan)
    assert res.refreshed and res.refresh_error is None
    assert (res.imported.took_theirs, res.imported.added, res.deleted) == (2, 0, 0)
    with _open(server) as srv:
        a, b = srv.get_event(A), srv.get_event(B)
        assert a["notes"] == "offline note"
        assert b["count"] == 3 and b["notes"] == "server note"  # the colleague's other field stays
        batches = srv.batches_frame()
        assert len(batches) == batches_before + 1  # ONE batch
        last = batches.iloc[-1]
        assert last["kind"] == "import" and last["file_name"] == "offline copy copy.sqlite3"
        audit = srv.audit_frame(batch_id=int(last["id"]))
        assert sorted(audit[audit["action"] == "update"]["record_id"].unique()) == sorted([A, B])
        versions = srv.event_versions()
    with _open(copy) as loc:  # the copy knows the server's new state
        assert sync.origin(loc).versions == versions
        assert loc.get_event(B) == b
    with pytest.raises(sync.SyncError, match="nothing to push"):
        sync.push(copy)


def test_keeping_the_servers_value_still_pushes_the_rest(server, tmp_path):
    copy = _pulled(server, tmp_path)
    with _open(copy) as loc:
        loc.update_event(A, {"notes": "offline note"})
        loc.update_event(B, {"count": 3})
    with _open(server) as srv:
        srv.update_event(B, {"count": 2})
    res = sync.push(copy, default="keep_mine")
    assert (res.imported.took_theirs, res.imported.kept_mine) == (1, 1)
    assert "the server's kept for 1 event" in res.sentence()
    with _open(server) as srv:
        assert srv.get_event(B)["count"] == 2 and srv.get_event(A)["notes"] == "offline note"


def test_deleted_added_and_calendar_changes(server, tmp_path):
    copy = _pulled(server, tmp_path)
    new = schema.empty_event() | {"date": "2026-11-30", "missile_class": "SRBM", "launch_site": "Sunan",
                                  "count": 2, "confirmation": "unconfirmed", "sources": ["offline source"]}
    new["id"] = schema.make_event_id(new["date"], new["missile_class"], new["launch_site"])
    with _open(copy) as loc:
        cal_ids = loc.calendar_frame()["id"].tolist()
        b = loc.new_batch("manual")
        loc.insert_event(new, b, missiles=[{"seq": 1, "missile_name": "KN-23", "missile_class": "SRBM"}])
        loc.delete_event(C)
        loc.delete_event(B)  # changed on the server meanwhile: kept there
        loc.update_calendar_entry(cal_ids[0], {"title": "Edited offline"})
        loc.update_calendar_entry(cal_ids[1], {"title": "Mine"})
        ch = sync.read_changes(loc)
    assert (ch.added, sorted(ch.deleted), sorted(ch.calendar)) == ([new["id"]], sorted([B, C]), sorted(cal_ids[:2]))
    with _open(server) as srv:
        srv.update_event(B, {"count": 2})
        srv.update_calendar_entry(cal_ids[1], {"title": "Theirs"})
    res = sync.push(copy)
    assert (res.imported.added, res.deleted, res.calendar) == (1, 1, 1)
    assert any(n.startswith(f"{B}: deleted in your copy, but changed on the server") for n in res.notes)
    assert any(n.startswith(f"calendar entry {cal_ids[1]}: changed in your copy and on the server") for n in res.notes)
    with _open(server) as srv:
        assert srv.has_event(new["id"]) and [m["missile_name"] for m in srv.missiles(new["id"])] == ["KN-23"]
        assert not srv.has_event(C) and srv.has_event(B)
        assert srv.get_calendar_entry(cal_ids[0])["title"] == "Edited offline"
        assert srv.get_calendar_entry(cal_ids[1])["title"] == "Theirs"
        batch = int(srv.batches_frame().iloc[-1]["id"])
        deleted = srv.audit_frame(batch_id=batch)
        assert deleted[deleted["action"] == "delete"]["record_id"].tolist() == [C]


def test_an_event_edited_offline_but_deleted_on_the_server_is_not_pushed(server, tmp_path, colleague):
    as_colleague, name = colleague
    copy = _pulled(server, tmp_path)
    with _open(copy) as loc:
        loc.update_event(A, {"notes": "offline"})
        loc.update_event(B, {"notes": "offline"})
    with as_colleague(server) as srv:
        srv.delete_event(A)
    res = sync.push(copy)
    assert any(n.startswith(f"{A}: edited in your copy, but deleted on the server by {name}") for n in res.notes)
    with _open(server) as srv:
        assert not srv.has_event(A) and srv.get_event(B)["notes"] == "offline"


def test_an_added_event_that_a_colleague_also_added_is_reviewed(server, tmp_path):
    copy = _pulled(server, tmp_path)
    new = schema.empty_event() | {"date": "2026-11-30", "missile_class": "SRBM", "launch_site": "Sunan",
                                  "count": 2, "confirmation": "unconfirmed"}
    new["id"] = schema.make_event_id(new["date"], new["missile_class"], new["launch_site"])
    with _open(copy) as loc:
        loc.insert_event(new, loc.new_batch("manual"))
    with _open(server) as srv:
        srv.insert_event(new | {"count": 3}, srv.new_batch("manual"))
    plan = sync.review(copy)
    assert [(r.event_id, r.server_id) for r in plan.reviews] == [(new["id"], new["id"])]
    assert plan.reviews[0].why.startswith("added in your copy; matches server event")
    res = sync.push(copy, default="keep_both")
    assert res.imported.kept_both == 1
    with _open(server) as srv:
        assert srv.get_event(new["id"])["count"] == 3 and srv.get_event(new["id"] + "-2")["count"] == 2


def test_a_server_change_during_the_review_stops_the_push(server, tmp_path):
    copy = _pulled(server, tmp_path)
    with _open(copy) as loc:
        loc.update_event(A, {"notes": "offline"})
    plan = sync.review(copy)
    assert plan.reviews == []
    with _open(server) as srv:
        srv.update_event(A, {"notes": "meanwhile"})
        n = len(srv.batches_frame())
    with pytest.raises(sync.SyncError, match="the server changed while you reviewed .*nothing was pushed"):
        sync.push(copy, reviewed=plan)
    with _open(server) as srv:
        assert srv.get_event(A)["notes"] == "meanwhile" and len(srv.batches_frame()) == n


def test_bad_cases_are_one_line_and_change_nothing(server, tmp_path, _seeded_template, monkeypatch):
    mine = tmp_path / "mine.sqlite3"
    shutil.copyfile(_seeded_template, mine)
    with pytest.raises(sync.SyncError, match="is not an offline copy"):
        sync.push(mine, server)
    with pytest.raises(sync.SyncError, match="there is no offline copy at"):
        sync.push(tmp_path / "nowhere.sqlite3", server)
    copy = _pulled(server, tmp_path)
    with _open(copy) as loc:
        loc.update_event(A, {"notes": "offline"})
    before = copy.read_bytes()
    real = sync.open_target

    def read_only(target):
        st = real(target)
        st.read_only_reason = "your role may only read"
        return st

    monkeypatch.setattr(sync, "open_target", read_only)
    with pytest.raises(sync.SyncError, match="cannot push to .*: your role may only read"):
        sync.push(copy)
    monkeypatch.undo()
    assert copy.read_bytes() == before
    with _open(server) as srv:
        assert srv.get_event(A)["notes"] != "offline"


def test_a_copy_pushed_but_not_pulled_again_is_not_pushed_twice(server, tmp_path, monkeypatch):
    copy = _pulled(server, tmp_path)
    with _open(copy) as loc:
        loc.update_event(A, {"notes": "offline"})
    real = sync.pull

    def unreachable(*a, **k):
        raise sync.SyncError("the server is unreachable")

    monkeypatch.setattr(sync, "pull", unreachable)
    res = sync.push(copy)
    assert not res.refreshed and "could not be pulled again (the server is unreachable)" in res.refresh_error
    monkeypatch.setattr(sync, "pull", real)
    with pytest.raises(sync.SyncError, match="already pushed .*pull again"):
        sync.push(copy)
    sync.pull(server, copy)  # a pushed copy may be replaced without --force


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, MAIN, *args], capture_output=True, text=True, timeout=180)


def test_sync_commands(server, tmp_path):
    srv_path = server
    copy = tmp_path / "copy.sqlite3"
    r = _cli("sync", "pull", str(srv_path), "--db", str(copy))
    assert r.returncode == 0 and r.stdout.startswith("pulled ") and r.stderr == "", r.stderr
    with _open(copy) as loc:
        loc.update_event(B, {"count": 3})
    with _open(srv_path) as srv:
        srv.update_event(B, {"count": 2})
    r = _cli("sync", "push", "--db", str(copy), "--dry-run")
    assert r.returncode == 0 and f"conflict {B}: changed on the server by" in r.stdout
    assert "count: server 2 | mine 3" in r.stdout and "dry run: nothing was pushed" in r.stdout
    r = _cli("sync", "push", "--db", str(copy))
    assert r.returncode == 3
    assert r.stderr.strip().splitlines() == ["nkbrief: 1 conflict to decide; nothing was pushed "
                                             "(choose --on-conflict server, mine or both)"]
    r = _cli("sync", "push", "--db", str(copy), "--on-conflict", "mine", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["pushed"] and doc["updated"] == 1 and doc["refreshed"]
    with _open(srv_path) as srv:
        assert srv.get_event(B)["count"] == 3
    r = _cli("sync", "push", "--db", str(copy))
    assert r.returncode == 1 and r.stderr.startswith("nkbrief: nothing to push") and "Traceback" not in r.stderr
    r = _cli("sync", "pull", str(tmp_path / "typo.sqlite3"), "--db", str(tmp_path / "x.sqlite3"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "there is no store at" in r.stderr
    assert not (tmp_path / "x.sqlite3").exists() and not (tmp_path / "typo.sqlite3").exists()


def test_a_reader_role_pulls_but_cannot_push(store_engine, store_target, request, tmp_path):
    if store_engine != "postgresql":
        pytest.skip("roles are the team server's")
    pg_role = request.getfixturevalue("pg_role")
    server = store_target(seed=True, name="server")
    reader = pg_role(member_of=("nkbrief_reader",)).url(server)
    copy = tmp_path / "copy.sqlite3"
    res = sync.pull(reader, copy)
    assert res.events > 0
    with _open(copy) as loc:
        loc.update_event(A, {"notes": "offline"})
    before = copy.read_bytes()
    with pytest.raises(sync.SyncError, match=r"^cannot push to .*which can read but not change"):
        sync.push(copy)
    assert copy.read_bytes() == before
    with _open(server) as srv:
        assert srv.get_event(A)["notes"] != "offline"


def test_an_unreachable_server_is_one_line_and_changes_nothing(store_engine, request, tmp_path):
    if store_engine != "postgresql":
        pytest.skip("a server that stops is the team server's")
    pg_private_server = request.getfixturevalue("pg_private_server")
    from nkbrief.store.admin import init_server

    url = pg_private_server.create_database()
    init_server(url, seed=True)
    copy = tmp_path / "copy.sqlite3"
    sync.pull(url, copy)
    with _open(copy) as loc:
        loc.update_event(A, {"notes": "offline"})
    before = copy.read_bytes()
    pg_private_server.stop()
    with pytest.raises(StoreError, match="cannot reach") as e:
        sync.push(copy)
    assert "\n" not in str(e.value)
    with pytest.raises(StoreError, match="cannot reach"):
        sync.pull(url, tmp_path / "other.sqlite3")
    assert copy.read_bytes() == before and not (tmp_path / "other.sqlite3").exists()
    r = _cli("sync", "push", "--db", str(copy))
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "cannot reach" in r.stderr


def test_a_push_of_only_calendar_changes_or_deletions_is_one_batch(server, tmp_path, colleague):
    as_colleague, _name = colleague
    copy = _pulled(server, tmp_path)
    with _open(copy) as loc:
        cid = loc.calendar_frame()["id"].tolist()[0]
        loc.update_calendar_entry(cid, {"title": "Edited offline"})
        loc.delete_event(C)
    with _open(server) as srv:
        n = len(srv.batches_frame())
    res = sync.push(copy)
    assert (res.imported.added, res.imported.took_theirs, res.deleted, res.calendar) == (0, 0, 1, 1)
    with _open(server) as srv:
        assert len(srv.batches_frame()) == n + 1 and srv.batches_frame().iloc[-1]["kind"] == "import"
        assert srv.get_calendar_entry(cid)["title"] == "Edited offline" and not srv.has_event(C)
    # a copy whose only change the server can no longer take: said, nothing written
    with _open(copy) as loc:
        loc.update_event(A, {"notes": "offline"})
    with as_colleague(server) as srv:
        srv.delete_event(A)
        n = len(srv.batches_frame())
    with pytest.raises(sync.SyncError, match=f"nothing to push that the server can take \\({A}: edited in your copy"):
        sync.push(copy)
    with _open(server) as srv:
        assert len(srv.batches_frame()) == n
