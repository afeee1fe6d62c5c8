"""The team store on PostgreSQL (issue 18): init-server, roles, multi-user semantics, and each
bad case with the server really stopped, restarted or refusing.

The store API itself runs on both engines in the suites that set STORE_ENGINES (see
tests/conftest.py); this module holds what only a server has. The servers come from
tests/pgtest.py (skipped with the reason where none can be had; CI must run them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nkbrief.cli import main
from nkbrief.store import SCHEMA_VERSION, Store, StoreError, VersionConflict, is_server_target
from import_helpers import LAUNCH_ID, launch_event

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "main.py")
EV = LAUNCH_ID


def _init(url: str, **kw) -> list[str]:
    from nkbrief.store.admin import init_server

    return init_server(url, **kw)


@pytest.fixture
def team_url(pg_url) -> str:
    """A team store set up by init-server (as the superuser), holding one event."""
    _init(pg_url)
    with Store.open(pg_url) as st:
        st.insert_event(launch_event(), st.new_batch("manual"))
    return pg_url


def _rows(url: str) -> dict:
    """Every table's rows, to show that something changed nothing."""
    with Store.open(url) as st:
        return {t: st._execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("batches", "events", "missiles", "statements", "calendar", "audit")}


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, MAIN, *argv], capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------------ targets
def test_which_targets_name_a_server():
    assert is_server_target("postgresql://db1/nkbrief") and is_server_target("postgres://db1/nkbrief")
    assert is_server_target("service=nkbrief") and is_server_target("postgresql:///?service=nkbrief")
    assert not is_server_target("/home/kim/nkbrief.sqlite3") and not is_server_target("postgresql.sqlite3")
    assert not is_server_target(Path("postgresql:/x"))


def test_a_password_in_the_address_is_refused_and_never_repeated(pg_url):
    url = pg_url.replace("://", "://someone:hunter2@", 1) if "@" not in pg_url else \
        pg_url.replace("@", ":hunter2@", 1)
    with pytest.raises(StoreError) as e:
        Store.open(url)
    assert "holds a password" in str(e.value) and ".pgpass" in str(e.value)
    assert "hunter2" not in str(e.value)


def test_nkbrief_db_may_name_a_server(team_url, monkeypatch):
    monkeypatch.setenv("NKBRIEF_DB", team_url)
    with Store.open() as st:
        assert st.engine == "postgresql" and st.event_count() == 1 and st.target == team_url
        assert st.path is None and "on " in st.where


# ------------------------------------------------------------------ init-server
def test_init_server_sets_up_then_changes_nothing_the_second_time(pg_url, capsys):
    assert main(["admin", "init-server", pg_url, "--seed"]) == 0
    out = capsys.readouterr().out
    assert "created the tables (schema 3)" in out
    assert "seeded" in out and "granted nkbrief_editor and nkbrief_reader" in out
    with Store.open(pg_url) as st:
        assert st.schema_version == SCHEMA_VERSION and st.event_count() > 200
        before = st.event_count()
    assert main(["admin", "init-server", pg_url, "--seed"]) == 0
    assert capsys.readouterr().out == "the team store is already set up; nothing changed\n"
    with Store.open(pg_url) as st:
        assert st.event_count() == before


def test_init_server_refuses_a_database_holding_other_tables(pg_server, pg_url, capsys):
    with pg_server.connect(pg_url.rsplit("/", 1)[1].split("?")[0]) as c:
        c.execute("CREATE TABLE invoices (id int)")
    assert main(["admin", "init-server", pg_url]) == 1
    err = capsys.readouterr().err
    assert err == (f"nkbrief: the team store {err.split('store ', 1)[1].split(' holds')[0]} holds other tables "
                   "(e.g. 'invoices'); init-server sets up only an empty database or an nkbrief one, "
                   "and changed nothing\n")
    with pg_server.connect(pg_url.rsplit("/", 1)[1].split("?")[0]) as c:
        names = [r[0] for r in c.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    assert names == ["invoices"]
    with pytest.raises(StoreError, match=r"is not an nkbrief store \(it holds other tables, e.g. 'invoices'\)"):
        Store.open(pg_url)


def test_an_empty_database_is_not_a_store_until_init_server(pg_url):
    with pytest.raises(StoreError, match="holds no nkbrief store yet; an administrator sets it up with "
                                         "'nkbrief admin init-server'"):
        Store.open(pg_url)


def test_init_server_rejects_a_file_path(capsys, tmp_path):
    assert main(["admin", "init-server", str(tmp_path / "x.sqlite3")]) == 2
    assert "is not a PostgreSQL address" in capsys.readouterr().err


# ------------------------------------------------------------------ roles and audit
def test_the_audit_records_the_database_user_whatever_the_client_says(team_url, pg_role):
    editor = pg_role(member_of=("nkbrief_editor",))
    with Store.open(editor.url(team_url)) as st:
        assert st.read_only_reason is None and st.user == editor.name
        st.user = "someone-else"  # a client cannot choose who it is in the audit
        st.update_event(EV, {"count": 3})
        b = st.new_batch("manual")
        audit = st.audit_frame(EV)
        assert audit.iloc[-1]["user"] == editor.name and audit.iloc[-1]["action"] == "update"
        assert st.batches_frame().set_index("id").loc[b, "user"] == editor.name


def test_the_audit_is_append_only_for_editors(team_url, pg_role):
    editor = pg_role(member_of=("nkbrief_editor",))
    with Store.open(editor.url(team_url)) as st:
        with pytest.raises(StoreError, match=f"you are connected as {editor.name}, which may not change"):
            with st.write() as c:
                c.execute("DELETE FROM audit")
        assert len(st.audit_frame()) > 0


def test_a_reader_reads_and_every_write_is_refused_with_the_reason(team_url, pg_role):
    reader = pg_role(member_of=("nkbrief_reader",))
    before = _rows(team_url)
    with Store.open(reader.url(team_url)) as st:
        reason = f"you are connected as {reader.name}, which can read but not change the team store"
        assert st.read_only_reason.startswith(reason)
        assert st.event_count() == 1 and len(st.events_frame()) == 1 and st.calendar_frame() is not None
        for write in (lambda: st.update_event(EV, {"count": 9}), lambda: st.new_batch("manual"),
                      lambda: st.delete_event(EV)):
            with pytest.raises(StoreError) as e:
                write()
            assert str(e.value).startswith(reason) and str(e.value).endswith("; nothing was written")
    assert _rows(team_url) == before


def test_a_login_without_any_rights_is_told_so(team_url, pg_role):
    nobody = pg_role()
    with pytest.raises(StoreError, match=f"you are connected as {nobody.name}"):
        Store.open(nobody.url(team_url))


# ------------------------------------------------------------------ schema versions on the server
def test_an_older_schema_is_upgraded_by_its_owner_and_refused_to_others(pg_url, pg_role):
    _init(pg_url, upto=2)
    editor = pg_role(member_of=("nkbrief_editor",))
    with pytest.raises(StoreError) as e:
        Store.open(editor.url(pg_url))
    assert str(e.value).endswith(f"is at schema 2 and this nkbrief needs schema {SCHEMA_VERSION}; its "
                                 "administrator upgrades it with 'nkbrief admin init-server' (you are "
                                 f"connected as {editor.name}, which may not)")
    with Store.open(pg_url) as st:  # the owner opens it: upgraded in place
        assert st.schema_version == SCHEMA_VERSION
        st.insert_event(launch_event(provenance="bundled"), st.new_batch("manual"))
        assert st.get_event(EV)["provenance"] == "bundled"
    with Store.open(editor.url(pg_url)) as st:
        assert st.schema_version == SCHEMA_VERSION and st.event_count() == 1


def test_a_newer_schema_is_refused_with_the_same_sentence_as_sqlite(team_url, pg_server):
    with pg_server.connect(team_url.rsplit("/", 1)[1].split("?")[0]) as c:
        c.execute("UPDATE nkbrief_meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 2),))
    with pytest.raises(StoreError) as e:
        Store.open(team_url)
    assert str(e.value).endswith(f"was written by a newer nkbrief (schema {SCHEMA_VERSION + 2}); "
                                 f"this one reads up to schema {SCHEMA_VERSION}")


def test_another_programs_meta_table_is_left_alone(pg_url, pg_server):
    with pg_server.connect(pg_url.rsplit("/", 1)[1].split("?")[0]) as c:
        c.execute("CREATE TABLE nkbrief_meta (key text primary key, value text not null)")
        c.execute("INSERT INTO nkbrief_meta VALUES ('application', 'other')")
    with pytest.raises(StoreError, match="is not an nkbrief store"):
        Store.open(pg_url)


# ------------------------------------------------------------------ multi-user
def test_data_version_changes_on_another_connections_commit_only(team_url):
    with Store.open(team_url) as a, Store.open(team_url) as b:
        v0 = a.data_version()
        a.update_event(EV, {"count": 3})  # our own change: the window already knows it
        assert a.data_version() == v0
        b.update_event(EV, {"count": 4})
        deadline = time.monotonic() + 10
        while a.data_version() == v0:
            assert time.monotonic() < deadline, "the change was never heard"
            time.sleep(0.02)
        assert a.get_event(EV)["count"] == 4


def test_two_processes_edit_one_event_on_the_server_one_wins_the_other_is_told_who_and_when(team_url, pg_role):
    """Both start at version 1 at the same moment, as two different analysts."""
    kim, lee = pg_role(member_of=("nkbrief_editor",)), pg_role(member_of=("nkbrief_editor",))
    procs = [subprocess.Popen([sys.executable, MAIN, "edit", EV, f"count={n}", "--if-version", "1",
                               "--db", who.url(team_url)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for n, who in ((5, kim), (6, lee))]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert sorted(r[0] for r in results) == [0, 3], results
    winner = kim if results[0][0] == 0 else lee
    won = next(r for r in results if r[0] == 0)
    lost = next(r for r in results if r[0] == 3)
    assert won[1:] == ("2\n", "")
    with Store.open(team_url) as st:
        audit = st.audit_frame(EV)
        update = audit[(audit["field"] == "count") & (audit["action"] == "update")].iloc[0]
        assert update["user"] == winner.name
        when = update["at_utc"].replace("T", " ").removesuffix("Z") + " UTC"
        assert lost[2] == (f"nkbrief: event {EV!r} was changed by {winner.name} at {when} since you opened it "
                           "(you started from version 1; it is now version 2)\n")
        rows = audit[audit["field"] == "count"]
        assert sorted(rows["action"]) == ["refused", "update"]
        assert st.get_event(EV)["count"] == (5 if winner is kim else 6)


def test_a_conflict_names_the_other_analyst(team_url, pg_role):
    kim = pg_role(member_of=("nkbrief_editor",))
    with Store.open(team_url) as mine, Store.open(kim.url(team_url)) as theirs:
        v = mine.event_version(EV)
        theirs.edit_event(EV, {"count": 7}, if_version=v)
        with pytest.raises(VersionConflict) as e:
            mine.edit_event(EV, {"count": 8}, if_version=v)
        assert e.value.user == kim.name and e.value.at_utc and e.value.theirs == {"count": 7}


def test_writers_queue_so_two_imports_never_interleave(team_url):
    """While one analyst's transaction is open, another's batch waits for it whole; then
    each batch's rows are together."""
    a, b = Store.open(team_url), Store.open(team_url)
    done = threading.Event()
    errors = []

    def second() -> None:
        try:
            with b.write():
                bid = b.new_batch("import")
                b.insert_events([launch_event(launch_site=f"B site {i}") for i in range(50)], bid)
        except Exception as e:  # pragma: no cover - shown by the assertion below
            errors.append(e)
        done.set()

    try:
        with a.write():
            first = a.new_batch("import")
            a.insert_events([launch_event(launch_site=f"A site {i}") for i in range(25)], first)
            t = threading.Thread(target=second)
            t.start()
            assert not done.wait(1.0), "the second batch was written inside the first one's transaction"
            a.insert_events([launch_event(launch_site=f"A site {i}") for i in range(25, 50)], first)
        t.join(60)
        assert done.is_set() and not errors
        frame = a.events_frame()
        assert len(frame) == 101
        batches = a.batches_frame()["id"].tolist()
        assert batches == sorted(batches) and len(batches) == 3
    finally:
        a.close()
        b.close()


# ------------------------------------------------------------------ bad cases, the server really refusing
def test_server_unreachable(pg_private_server):
    url = pg_private_server.url
    pg_private_server.stop()
    with pytest.raises(StoreError) as e:
        Store.open(url)
    host, port = pg_private_server.host, pg_private_server.port
    assert str(e.value) == (f"cannot reach the team store server at {host}:{port} "
                            "(is it running, and is the address right?)")


def test_server_unreachable_from_the_command_line_is_one_line(pg_private_server):
    url = pg_private_server.url
    pg_private_server.stop()
    r = _cli("list", "--db", url)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("nkbrief: cannot reach the team store server at") and r.stderr.count("\n") == 1


def test_authentication_refused(team_url, pg_role, pg_server):
    wrong = pg_role(password=None, member_of=("nkbrief_editor",))  # a login the server has no password for
    with pytest.raises(StoreError) as e:
        Store.open(wrong.url(team_url))
    msg = str(e.value)
    assert "refused the login for" in msg and ".pgpass" in msg and "Traceback" not in msg


def test_tls_required_but_not_offered(team_url, pg_server):
    from pgtest import replace_url

    with pytest.raises(StoreError) as e:
        Store.open(replace_url(team_url, sslmode="require"))
    assert str(e.value) == (f"the team store server at {pg_server.host}:{pg_server.port} does not offer TLS, "
                            "which this connection requires (sslmode); nothing was opened")


def test_server_restarted_mid_import_leaves_nothing_half_written(pg_private_server):
    url = pg_private_server.create_database()
    _init(url)
    before = _rows(url)
    st = Store.open(url)
    try:
        with pytest.raises(StoreError) as e:
            with st.write():
                bid = st.new_batch("import", file_name="colleague.csv")
                st.insert_events([launch_event(launch_site=f"site {i}") for i in range(200)], bid)
                pg_private_server.restart()
                st.insert_events([launch_event(launch_site=f"late site {i}") for i in range(10)], bid)
        assert str(e.value).startswith("the connection to the team store") and "was lost" in str(e.value)
        assert str(e.value).endswith("the unfinished change was rolled back, nothing was written")
        with pytest.raises(StoreError, match="was lost"):
            st.data_version()
    finally:
        st.close()
    assert _rows(url) == before


def test_server_stopped_while_the_window_polls(pg_private_server):
    url = pg_private_server.create_database()
    _init(url)
    st = Store.open(url)
    try:
        st.data_version()
        pg_private_server.stop()
        with pytest.raises(StoreError, match="was lost"):
            for _ in range(100):  # the closed socket is noticed at the next read
                st.data_version()
                time.sleep(0.05)
    finally:
        st.close()


def test_errors_never_carry_a_traceback_or_password_to_the_command_line(pg_url, pg_server):
    # a wrong PGPASSWORD wins over the test server's password file: the login is refused
    env = os.environ | {"PGPASSWORD": "s3cret-pw"}
    r = subprocess.run([sys.executable, MAIN, "list", "--db", pg_url], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (f"nkbrief: the team store server at {pg_server.host}:{pg_server.port} refused the login "
                        f"for {pg_server.superuser} (check the password in your .pgpass or service file, or "
                        "ask the administrator)\n")
    r = _cli("list", "--db", pg_url)  # the right password (the password file), no store yet
    assert r.returncode == 1 and "holds no nkbrief store yet" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture
def tls_only_server():
    """A private server that serves TCP only over TLS (its certificate: folder/root.crt)."""
    import pgtest

    try:
        server = pgtest.start_server(ssl="only")
    except pgtest.NoServer as exc:
        if exc.must_fail:
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))
    yield server
    server.destroy()


def test_tls_through_libpqs_own_settings(tls_only_server):
    from pgtest import replace_url

    server = tls_only_server
    root = server.folder / "root.crt"
    url = server.create_database()
    _init(replace_url(url, sslmode="verify-ca", sslrootcert=str(root)))
    with Store.open(replace_url(url, sslmode="verify-ca", sslrootcert=str(root))) as st:
        assert st.event_count() == 0 and st._conn.raw.info.pgconn.ssl_in_use
    with pytest.raises(StoreError) as e:
        Store.open(replace_url(url, sslmode="disable"))
    assert str(e.value) == (f"the team store server at {server.host}:{server.port} accepts this login only "
                            "over TLS: add sslmode=require to the address")


def test_a_service_file_names_the_team_store(team_url, tmp_path, monkeypatch):
    from pgtest import url_parts

    p = url_parts(team_url)
    service = tmp_path / "pg_service.conf"
    lines = ["[nkbrief]", f"host={p['host']}", f"port={p['port']}", f"dbname={p['dbname']}", f"user={p['user']}"]
    lines += [f"{k}={v}" for k, v in p["params"].items()]  # the test server's passfile
    service.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("PGSERVICEFILE", str(service))
    for target in ("service=nkbrief", "postgresql:///?service=nkbrief"):
        with Store.open(target) as st:
            assert st.event_count() == 1 and st.target == target
    with pytest.raises(StoreError) as e:
        Store.open("service=nowhere")
    assert str(e.value) == ("the service 'nowhere' is not defined in your service file (~/.pg_service.conf or "
                            "$PGSERVICEFILE)")


def test_the_documented_set_up_by_a_database_owner(pg_private_server, capsys):
    """docs/team_store.md: a database owned by a login that is not a superuser; init-server
    needs CREATEROLE only while the roles do not exist (a fresh server has none)."""
    server = pg_private_server
    plain = server.create_role(attributes="CREATEDB")
    with server.connect() as c:
        c.execute(f'CREATE DATABASE teamstore OWNER "{plain.name}"')
    url = plain.url("teamstore")
    assert main(["admin", "init-server", url]) == 1
    assert capsys.readouterr().err == (
        "nkbrief: the roles nkbrief_editor and nkbrief_reader do not exist yet on this server, and "
        f"{plain.name} may not create roles: run init-server once as a login with CREATEROLE (or as a "
        "superuser); nothing was changed\n")
    with server.connect("teamstore") as c:
        assert c.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
    with server.connect() as c:
        c.execute(f'ALTER ROLE "{plain.name}" CREATEROLE')
    assert main(["admin", "init-server", url, "--seed"]) == 0
    assert "created role nkbrief_editor" in capsys.readouterr().out
    kim = server.create_role(member_of=("nkbrief_editor",))
    with Store.open(kim.url("teamstore")) as st:
        assert st.read_only_reason is None and st.event_count() > 200
        ev = st.events_frame()["id"].iloc[-1]
        st.update_event(ev, {"notes": "checked"})
        assert st.audit_frame(ev).iloc[-1]["user"] == kim.name


def _selfcheck(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NKBRIEF_")}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "xdg"),
               XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    return subprocess.run([sys.executable, MAIN, "selfcheck", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_selfcheck_reports_a_team_store_and_changes_nothing(team_url, pg_role, tmp_path):
    reader = pg_role(member_of=("nkbrief_reader",))
    before = _rows(team_url)
    r = _selfcheck(tmp_path, "--json", "--db", reader.url(team_url))
    assert r.returncode == 0, r.stdout + r.stderr
    store = json.loads(r.stdout)["store"]
    assert store["engine"] == "postgresql" and store["exists"] and store["schema"] == SCHEMA_VERSION
    assert store["path"] == reader.url(team_url) and store["values_outside_rules"] == []
    assert store["read_only_reason"].startswith(f"you are connected as {reader.name}, which can read")
    assert not any(p["kind"].startswith("store") for p in json.loads(r.stdout)["paths"])
    assert _rows(team_url) == before
    text = _selfcheck(tmp_path, "--db", team_url).stdout
    assert f"{team_url}  [--db; team store, schema {SCHEMA_VERSION}; writable]" in text


def test_selfcheck_fails_on_an_unreachable_team_store(pg_private_server, tmp_path):
    url = pg_private_server.url
    pg_private_server.stop()
    r = _selfcheck(tmp_path, "--db", url)
    assert r.returncode != 0
    assert (f"  - store: cannot reach the team store server at {pg_private_server.host}:{pg_private_server.port} "
            "(is it running, and is the address right?)") in r.stdout
