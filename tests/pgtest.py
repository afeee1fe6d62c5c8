"""PostgreSQL test servers for the tests and benchmarks (the fixtures are in tests/conftest.py).

A server comes from scripts/pg_test_server.sh (Debian's `postgresql` package, a throwaway
cluster in a temporary folder) or from $NKBRIEF_TEST_PG, the one scripts/run_tests.sh starts
for the whole run ($NKBRIEF_TEST_PG_DIR then names its folder, so it may be stopped and
started again). Where no server can be had, tests skip with the reason; under CI ($CI set)
they fail instead, since CI must run them.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "pg_test_server.sh"
#: pg_test_server.sh's exit status when PostgreSQL is not installed
NOT_INSTALLED = 3


class NoServer(Exception):
    """No server could be had; str() is the reason. `must_fail` when CI has to run it."""

    def __init__(self, reason: str, *, must_fail: bool = False):
        super().__init__(reason)
        self.must_fail = must_fail


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def url_parts(url: str) -> dict:
    """The parts of a postgresql:// URL: user, password, host, port, dbname, params (dict)."""
    u = urlsplit(url)
    if u.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a postgresql:// URL: {url!r}")
    return {
        "user": unquote(u.username) if u.username else None,
        "password": unquote(u.password) if u.password else None,
        "host": u.hostname,
        "port": u.port,
        "dbname": unquote(u.path.lstrip("/")) or None,
        "params": dict(parse_qsl(u.query)),
    }


def make_url(*, user=None, password=None, host=None, port=None, dbname=None, params=None) -> str:
    auth = ""
    if user:
        auth = quote(user, safe="")
        if password is not None:
            auth += ":" + quote(password, safe="")
        auth += "@"
    hostport = host or ""
    if port:
        hostport += f":{port}"
    query = ("?" + urlencode(params)) if params else ""
    return f"postgresql://{auth}{hostport}/{quote(dbname or '', safe='')}{query}"


def replace_url(url: str, **changes) -> str:
    """`url` with some parts replaced: user, password, host, port, dbname, and any libpq
    parameter (sslmode="require", connect_timeout=2...) as a query parameter."""
    parts = url_parts(url)
    params = dict(parts.pop("params"))
    for key, value in changes.items():
        if key in parts:
            parts[key] = value
        elif value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return make_url(**parts, params=params)


def _run_script(*args: str, timeout: float = 60) -> str:
    try:
        done = subprocess.run(
            ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise NoServer(f"pg_test_server.sh {args[0]} took over {timeout:.0f} s", must_fail=True)
    if done.returncode == NOT_INSTALLED:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "not installed"
        raise NoServer(f"no PostgreSQL test server: {reason}", must_fail=in_ci())
    if done.returncode != 0:
        raise NoServer(
            f"pg_test_server.sh {' '.join(args)} failed: {done.stderr.strip()[-2000:]}", must_fail=True
        )
    return done.stdout.strip()


def psycopg_or_reason():
    try:
        import psycopg
    except ImportError:
        raise NoServer(
            "psycopg is not installed (scripts/run_tests.sh installs it: pip install -e '.[test]')",
            must_fail=in_ci(),
        )
    return psycopg


@dataclass
class PgServer:
    """A running server. `url` is the superuser's URL to the maintenance database."""

    url: str
    folder: Path | None  # None: a server that is not ours to stop (NKBRIEF_TEST_PG alone)
    #: libpq's password file the roles' URLs name (passfile=); the folder's pgpass for ours
    passfile: Path | None = None

    def __post_init__(self):
        if self.passfile is None:
            named = url_parts(self.url)["params"].get("passfile")
            if named:
                self.passfile = Path(named)
            elif self.folder is not None:
                self.passfile = self.folder / "pgpass"
            else:
                fd, name = tempfile.mkstemp(prefix="nkbrief-pgpass.")
                os.close(fd)  # mkstemp makes it 0600, as libpq wants
                self.passfile = Path(name)

    @property
    def host(self) -> str:
        return url_parts(self.url)["host"]

    @property
    def port(self) -> int:
        return url_parts(self.url)["port"] or 5432

    @property
    def superuser(self) -> str:
        return url_parts(self.url)["user"]

    @property
    def socket_dir(self) -> Path | None:
        return self.folder / "socket" if self.folder else None

    def url_for(self, dbname: str | None = None, **changes) -> str:
        """This server's URL with another database, user, password or libpq parameters."""
        if dbname is not None:
            changes["dbname"] = dbname
        return replace_url(self.url, **changes)

    def connect(self, dbname: str | None = None, **kwargs):
        """A superuser connection in autocommit (to `dbname`, else the maintenance database)."""
        import psycopg

        return psycopg.connect(self.url_for(dbname), autocommit=True, **kwargs)

    def _ours(self) -> Path:
        if self.folder is None:
            import pytest

            pytest.skip("the server in NKBRIEF_TEST_PG is not this run's to stop (no NKBRIEF_TEST_PG_DIR)")
        return self.folder

    def stop(self, mode: str = "fast") -> None:
        """Stop the server, keeping its data; mode "immediate" is a crash (connections cut)."""
        _run_script("halt", str(self._ours()), mode)

    def kill(self) -> None:
        self.stop("immediate")

    def start(self) -> None:
        """Start a stopped server again, same port and data."""
        _run_script("start", str(self._ours()))

    def restart(self) -> None:
        _run_script("restart", str(self._ours()))

    def is_up(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url, connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def destroy(self) -> None:
        """Stop the server and remove its folder."""
        _run_script("stop", str(self._ours()))

    # -- databases and roles ---------------------------------------------------------------

    def create_database(self, prefix: str = "nkb_test") -> str:
        """A new empty database (from template0, about 0.1 s); returns its superuser URL."""
        name = f"{prefix}_{secrets.token_hex(6)}"
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
        return self.url_for(name)

    def drop_database(self, url_or_name: str) -> None:
        name = url_parts(url_or_name)["dbname"] if "://" in url_or_name else url_or_name
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create_role(self, name: str | None = None, *, password: str | None = "",
                    login: bool = True, member_of: tuple[str, ...] = (),
                    attributes: str = "") -> "PgRole":
        """A role (by default a login with a random password and no rights at all). Its
        password goes into the server's libpq password file (`passfile`), which the role's
        URL names, so a URL never holds a password (nkbrief refuses one there).
        password=None: a login without any password (authentication then fails).
        `member_of` grants existing roles (nkbrief_reader...); `attributes` is extra CREATE
        ROLE options (e.g. "CREATEDB")."""
        name = name or f"nkb_role_{secrets.token_hex(4)}"
        if password == "":
            password = secrets.token_urlsafe(12)
        opts = "LOGIN" if login else "NOLOGIN"
        if attributes:
            opts += " " + attributes
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE ROLE {} " + opts).format(sql.Identifier(name)))
            if password is not None:
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(name), sql.Literal(password)))
            for group in member_of:
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(name)))
        if password is not None and login:
            esc = password.replace("\\", "\\\\").replace(":", "\\:")
            with open(self.passfile, "a", encoding="utf-8") as f:
                f.write(f"*:*:*:{name}:{esc}\n")
        return PgRole(name=name, password=password, server=self)

    def drop_role(self, name: str, dbnames: tuple[str, ...] = ()) -> None:
        """Drop a role: first what it owns or was granted in each of `dbnames` that still exists."""
        from psycopg import sql

        with self.connect() as conn:
            existing = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                return
        for db in dbnames:
            if db in existing:
                with self.connect(db) as conn:
                    conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@dataclass
class PgRole:
    name: str
    password: str | None
    server: PgServer

    def url(self, db: str | None = None, **changes) -> str:
        """A URL that logs in as this role, to `db` (a name or another URL whose database is
        taken), else the maintenance database."""
        if db and "://" in db:
            db = url_parts(db)["dbname"]
        changes = {"user": self.name, "password": None, "passfile": str(self.server.passfile), **changes}
        return self.server.url_for(db, **changes)


_template: list[Path] = []


def _template_folder() -> Path:
    """Where this process keeps the cluster its servers are copied from (initdb once;
    pg_test_server.sh PG_TEST_TEMPLATE), removed at exit."""
    if not _template:
        import atexit
        import shutil

        _template.append(Path(tempfile.mkdtemp(prefix="nkbrief-pg-template.")))
        atexit.register(shutil.rmtree, _template[0], True)
    return _template[0]


def start_server(*, ssl: str | None = None) -> PgServer:
    """A new throwaway server in a new folder under the temporary directory (the postgres
    user must be able to reach it, so not under pytest's private tmp_path), copied from
    this process's template cluster."""
    psycopg_or_reason()
    folder = Path(tempfile.mkdtemp(prefix="nkbrief-pg."))
    env_ssl = {"PG_TEST_TEMPLATE": str(_template_folder())}
    if ssl:
        env_ssl["PG_TEST_SSL"] = ssl
    old = {k: os.environ.get(k) for k in env_ssl}
    os.environ.update(env_ssl)
    try:
        url = _run_script("start", str(folder))
    except NoServer:
        subprocess.run(["rm", "-rf", str(folder)], check=False)
        raise
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return PgServer(url=url, folder=folder)


def session_server() -> tuple[PgServer, bool]:
    """The run's server: $NKBRIEF_TEST_PG when set, else a new one. Returns (server, ours):
    ours means this process started it and must destroy it."""
    psycopg = psycopg_or_reason()
    url = os.environ.get("NKBRIEF_TEST_PG", "").strip()
    if url:
        folder = os.environ.get("NKBRIEF_TEST_PG_DIR", "").strip()
        server = PgServer(url=url, folder=Path(folder) if folder else None)
        try:
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.Error as exc:
            raise NoServer(f"NKBRIEF_TEST_PG is set but its server does not answer: {exc}", must_fail=True)
        return server, False
    return start_server(), True
