"""scripts/pg_test_server.sh and the PostgreSQL fixtures (tests/conftest.py, tests/pgtest.py)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

import pgtest

SCRIPT = str(pgtest.SCRIPT)


def _script(*args, env=None, timeout=60):
    return subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _connect(url, **kw):
    psycopg = pytest.importorskip("psycopg")
    return psycopg.connect(url, connect_timeout=5, **kw)


def test_start_prints_one_url_psycopg_connects_to_and_stop_removes_the_folder(pg_server):
    # pg_server first: skips (or fails under CI) as every server test does when none can be had
    folder = Path(tempfile.mkdtemp(prefix="nkbrief-pg-test."))
    try:
        done = _script("start", str(folder))
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert len(lines) == 1 and lines[0].startswith("postgresql://postgres@127.0.0.1:"), done.stdout
        parts = pgtest.url_parts(lines[0])
        assert parts["host"] == "127.0.0.1" and parts["port"] and parts["dbname"] == "postgres"
        # no password in the URL: it names libpq's password file, which holds it
        assert parts["password"] is None and parts["params"] == {"passfile": str(folder / "pgpass")}
        assert (folder / "pgpass").stat().st_mode & 0o077 == 0
        assert str(folder) in done.stderr  # where it runs, for the person who started it
        with _connect(lines[0]) as conn:
            assert conn.execute("SELECT current_user, inet_server_addr()::text").fetchone() == (
                "postgres", "127.0.0.1/32")
        # the Unix socket in the folder, trust authentication, no password
        sock = pgtest.make_url(user="postgres", dbname="postgres",
                               params={"host": str(folder / "socket"), "port": parts["port"]})
        with _connect(sock) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        # TCP needs the password
        with pytest.raises(Exception, match="password authentication failed"):
            _connect(pgtest.replace_url(lines[0], password="wrong"))
        assert _script("url", str(folder)).stdout.strip() == lines[0]
        # createdb: an empty database, its URL over the socket (what the bundle's smoke test uses)
        done = _script("createdb", str(folder), "smoke_db")
        assert done.returncode == 0, done.stderr
        with _connect(done.stdout.strip()) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("smoke_db",)
        assert _script("createdb", str(folder), "x; DROP").returncode == 2
        done = _script("stop", str(folder))
        assert done.returncode == 0, done.stderr
        assert not folder.exists()
        with pytest.raises(Exception, match="(?i)connect"):
            _connect(lines[0])
    finally:
        if folder.exists():
            _script("stop", str(folder))


def test_missing_postgresql_is_one_clear_line_and_a_distinct_status(tmp_path):
    done = _script("start", str(tmp_path / "x"), env={"PG_BINDIR": str(tmp_path / "nowhere")})
    assert done.returncode == pgtest.NOT_INSTALLED
    assert done.stderr.count("\n") == 1
    assert done.stderr.strip().endswith("holds no initdb/pg_ctl"), done.stderr
    assert not (tmp_path / "x").exists()  # nothing made
    assert done.stdout == ""


def test_missing_postgresql_skips_outside_ci_and_fails_in_ci(tmp_path, monkeypatch):
    monkeypatch.setenv("PG_BINDIR", str(tmp_path / "nowhere"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pgtest.NoServer) as exc:
        pgtest._run_script("start", str(tmp_path / "a"))
    assert not exc.value.must_fail and "no PostgreSQL test server" in str(exc.value)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pgtest.NoServer) as exc:
        pgtest._run_script("start", str(tmp_path / "b"))
    assert exc.value.must_fail


def test_usage_errors_and_a_folder_that_is_not_a_test_server(tmp_path):
    assert _script().returncode == 2
    assert _script("frobnicate").returncode == 2
    (tmp_path / "keep.txt").write_text("analyst's file")
    done = _script("start", str(tmp_path))
    assert done.returncode == 2 and "not empty" in done.stderr
    done = _script("stop", str(tmp_path))
    assert done.returncode == 2 and "not removing" in done.stderr
    assert (tmp_path / "keep.txt").exists()


def test_private_server_stops_restarts_and_keeps_its_data(pg_private_server):
    srv = pg_private_server
    assert srv.folder is not None and srv.host == "127.0.0.1"
    with srv.connect() as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (42)")
        pid_before = conn.execute("SELECT pg_backend_pid()").fetchone()
    conn = srv.connect()
    srv.restart()
    psycopg = pytest.importorskip("psycopg")
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")  # the restart cut the old connection
    conn.close()
    with srv.connect() as conn:
        assert conn.execute("SELECT n FROM kept").fetchone() == (42,)
        assert conn.execute("SELECT pg_backend_pid()").fetchone() is not None
    srv.stop()
    assert not srv.is_up()
    with pytest.raises(psycopg.OperationalError, match="(?i)connection refused|failed"):
        _connect(srv.url)
    srv.start()
    assert srv.is_up()
    # a crash (immediate stop) in the middle of a transaction: the client gets an error
    conn = srv.connect()
    conn.autocommit = False
    conn.execute("INSERT INTO kept VALUES (1)")
    srv.kill()
    with pytest.raises(psycopg.OperationalError):
        conn.execute("INSERT INTO kept VALUES (2)")
        conn.commit()
    conn.close()
    srv.start()
    with srv.connect() as conn:
        assert conn.execute("SELECT array_agg(n) FROM kept").fetchone() == ([42],)
    assert pid_before is not None


def test_private_servers_are_copies_of_one_template_yet_independent(pg_private_server):
    other = pgtest.start_server()
    try:
        assert other.folder != pg_private_server.folder and other.port != pg_private_server.port
        with pg_private_server.connect() as conn:
            conn.execute("CREATE TABLE only_here (n int)")
        with other.connect() as conn:
            assert conn.execute("SELECT to_regclass('only_here')").fetchone() == (None,)
        template = pgtest._template_folder()
        assert (template / "data" / "PG_VERSION").exists()  # made once, copied for each
        assert not (template / "data" / "postmaster.pid").exists()  # never started itself
    finally:
        other.destroy()
    assert not other.folder.exists()


def test_pg_url_is_a_fresh_empty_database_dropped_after(pg_server, pg_url):
    name = pgtest.url_parts(pg_url)["dbname"]
    assert name.startswith("nkb_test_")
    with _connect(pg_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone() == (0,)
        assert conn.execute("SELECT current_database(), current_setting('server_encoding')").fetchone() == (
            name, "UTF8")
    other = pg_server.create_database()
    assert other != pg_url
    pg_server.drop_database(other)
    with pg_server.connect() as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert name in names and pgtest.url_parts(other)["dbname"] not in names


def test_roles_for_authentication_and_rights(pg_url, pg_role):
    psycopg = pytest.importorskip("psycopg")
    role = pg_role()
    with _connect(role.url(pg_url)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role.name,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.t (n int)")  # no rights at all
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(pgtest.replace_url(role.url(pg_url), password="not-it"))
    assert role.password and role.password not in role.url(pg_url)
    nopw = pg_role(password=None)
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        _connect(nopw.url(pg_url))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(nopw.url(pg_url, password="anything"))
    # a group granted: the member gets its rights
    group = pg_role(login=False, password=None)
    with _connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (n int)")
        conn.execute(f'GRANT SELECT ON events TO "{group.name}"')
    member = pg_role(member_of=(group.name,))
    with _connect(member.url(pg_url)) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO events VALUES (1)")


def test_server_without_tls_refuses_a_client_that_requires_it(pg_url):
    psycopg = pytest.importorskip("psycopg")
    with pytest.raises(psycopg.OperationalError, match="server does not support SSL, but SSL was required"):
        _connect(pgtest.replace_url(pg_url, sslmode="require"))


def test_tls_server_with_a_self_signed_certificate():
    psycopg = pytest.importorskip("psycopg")
    try:
        srv = pgtest.start_server(ssl="only")
    except pgtest.NoServer as exc:
        if exc.must_fail:
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        root = srv.folder / "root.crt"
        assert root.exists()
        with _connect(srv.url_for(sslmode="verify-full", sslrootcert=str(root))) as conn:
            assert conn.pgconn.ssl_in_use
        with _connect(srv.url_for(sslmode="require")) as conn:
            assert conn.pgconn.ssl_in_use
        # "only": a client that does not use TLS is refused
        with pytest.raises(psycopg.OperationalError, match="no encryption|pg_hba.conf"):
            _connect(srv.url_for(sslmode="disable"))
    finally:
        srv.destroy()
    assert not srv.folder.exists()
