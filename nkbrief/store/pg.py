"""The team store on PostgreSQL: the same :class:`~nkbrief.store.Store` over a server.

Imported only when a server target is opened (``postgresql://…``, ``postgres://…`` or
``service=NAME``), so analysts on the default SQLite store never load psycopg.

The store's SQL is written once, for SQLite. :class:`PgConnection` gives a psycopg
connection the surface of ``sqlite3.Connection`` that the store uses, and :func:`translate`
turns the SQL into PostgreSQL's (``?`` placeholders, the reserved column name ``user``,
SQLite's ``ORDER BY +col`` and its place for NULLs, ``INSERT OR IGNORE``). What has no
common form lives here: the schema's DDL, the meta table that stands for SQLite's
``PRAGMA user_version``/``application_id``, ``COPY`` for bulk inserts, ``LISTEN``/``NOTIFY``
for ``data_version``, the roles, grants and triggers that ``init_server``
(:mod:`nkbrief.store.admin`) sets up. This module imports nothing of the store package but
its error type, so the store can import it without a cycle.

Writes: every ``with store.write()`` (``BEGIN IMMEDIATE``) is one transaction that first
takes one advisory lock (``pg_advisory_xact_lock``), as SQLite's takes the file's write
lock: writers queue, so an edit's version check and its write cannot be split by another
analyst, and two imports never interleave half-batches. Readers are never blocked.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import urllib.parse

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row

from ..progress import Progress, report
from .errors import StoreError

#: The application marker in ``nkbrief_meta`` (SQLite's application_id is "NKBR").
APPLICATION = "nkbrief"
#: The advisory lock every write transaction takes first ("NKBR" as a number).
WRITE_LOCK = 0x4E4B4252
#: The channel the server's trigger notifies after a change is committed.
CHANNEL = "nkbrief_changes"
#: Roles init-server creates (NOLOGIN groups: an administrator grants them to logins).
EDITOR, READER = "nkbrief_editor", "nkbrief_reader"
#: The tables of an nkbrief team store.
OWN_TABLES = ("nkbrief_meta", "batches", "events", "missiles", "calendar", "statements", "audit")
#: Seconds to wait for a server that does not answer (unless the target sets connect_timeout).
CONNECT_TIMEOUT = 10


# ------------------------------------------------------------------ targets
def check_target(target: str) -> tuple[str, dict]:
    """(the conninfo to connect with, its parts) for a server target; a target holding a
    password is refused: passwords come from libpq's .pgpass, a service file or PGPASSWORD."""
    conninfo = target
    try:
        parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as e:
        raise StoreError(f"'{_no_password(target)}' is not a PostgreSQL address ({_first_line(e)})") from None
    if parts.get("password") is not None:
        raise StoreError("the team store address holds a password; nkbrief takes passwords only from "
                         "libpq's .pgpass, a service file or PGPASSWORD (see docs/team_store.md)")
    return conninfo, parts


def _no_password(target: str) -> str:
    """The target with any password taken out (for messages)."""
    if "://" in target:
        u = urllib.parse.urlsplit(target)
        if u.password is not None:
            host = u.netloc.rpartition("@")[2]
            user = urllib.parse.unquote(u.username or "")
            u = u._replace(netloc=f"{user}:***@{host}" if user else f"***@{host}")
        return urllib.parse.urlunsplit(u)
    return re.sub(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", "password=***", target)


def _first_line(e: BaseException) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


def _server_words(parts: dict) -> str:
    """'the team store server at db1:5432' or 'the team store (service NAME)'."""
    host, port = parts.get("host"), parts.get("port")
    if parts.get("service") and not host:
        return f"the team store (service {parts['service']})"
    host = host or "the local socket"
    return f"the team store server at {host}{':' + port if port else ''}"


def connect_message(e: psycopg.Error, parts: dict) -> str:
    """A failed connection as one sentence for the analyst (never the password)."""
    text = str(e)
    low = text.lower()
    srv = _server_words(parts)
    user = parts.get("user") or "your login"
    db = parts.get("dbname")
    if "server does not support ssl" in low or "ssl was required" in low:
        return (f"{srv} does not offer TLS, which this connection requires (sslmode); "
                "nothing was opened")
    if "no encryption" in low and "pg_hba" in low:
        return f"{srv} accepts this login only over TLS: add sslmode=require to the address"
    if ("password authentication failed" in low or "no password supplied" in low
            or "authentication failed" in low or "pg_hba.conf" in low):
        return (f"{srv} refused the login for {user} (check the password in your .pgpass or "
                "service file, or ask the administrator)")
    if "role" in low and "does not exist" in low:
        return f"{srv} has no login named {user}"
    if "database" in low and "does not exist" in low:
        return f"{srv} has no database {db!r}" if db else f"{srv} has no such database"
    if "certificate" in low or "ssl" in low:
        return f"{srv}: the TLS connection failed ({_first_line(e)})"
    if ("connection refused" in low or "could not connect" in low or "timeout expired" in low
            or "could not translate host name" in low or "no such file or directory" in low
            or "network is unreachable" in low or "no route to host" in low):
        return f"cannot reach {srv} (is it running, and is the address right?)"
    if "definition of service" in low or "service file" in low:
        name = parts.get("service")
        return (f"the service {name!r} is not defined in your service file (~/.pg_service.conf or "
                "$PGSERVICEFILE)" if name else f"the service file could not be read ({_first_line(e)})")
    return f"cannot connect to {srv}: {_first_line(e)}"


# ------------------------------------------------------------------ SQL translation
_USER = re.compile(r'(?<![\w"])user(?![\w"])')
_ORDER_PLUS = re.compile(r"(ORDER BY\s+)\+")
_translated: dict[tuple[str, bool], str] = {}
_TEXT = re.compile(r"\bTEXT\b")


def _nulls_as_sqlite(sql: str) -> str:
    """Each ORDER BY term with SQLite's place for NULL (the smallest value: first ascending,
    last descending; PostgreSQL's default is the other way round)."""
    out, pos = [], 0
    while (i := sql.find("ORDER BY", pos)) >= 0:
        j = i + len("ORDER BY")
        out.append(sql[pos:j])
        depth, start, terms = 0, j, []
        k = j
        while k < len(sql):
            ch = sql[k]
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and ch == ",":
                terms.append(sql[start:k])
                start = k + 1
            elif depth == 0 and sql.startswith((" LIMIT", " OFFSET", " UNION"), k):
                break
            k += 1
        terms.append(sql[start:k])
        fixed = []
        for t in terms:
            desc = t.rstrip().upper().endswith(" DESC")
            fixed.append(t.rstrip() + (" NULLS LAST" if desc else " NULLS FIRST") + t[len(t.rstrip()):])
        out.append(",".join(fixed))
        pos = k
    out.append(sql[pos:])
    return "".join(out)


def translate(sql: str, with_params: bool = True) -> str:
    """The store's SQLite SQL as PostgreSQL: ``?`` -> ``%s`` (and a literal ``%`` doubled
    when there are parameters), the column ``user`` quoted (a reserved word there),
    ``ORDER BY +col`` (SQLite's way to skip an index) without the plus and with NULLs where
    SQLite puts them, ``INSERT OR IGNORE`` as ``ON CONFLICT DO NOTHING``; text columns made
    by CREATE/ALTER compare byte by byte (``COLLATE "C"``), as SQLite's do, whatever the
    database's locale."""
    key = (sql, with_params)
    out = _translated.get(key)
    if out is None:
        out = _USER.sub('"user"', sql)
        if out.startswith("INSERT OR IGNORE "):
            out = "INSERT " + out[len("INSERT OR IGNORE "):] + " ON CONFLICT DO NOTHING"
        out = _ORDER_PLUS.sub(r"\1", out)
        if "ORDER BY" in out:
            out = _nulls_as_sqlite(out)
        if out.startswith(("CREATE", "ALTER")):
            out = _TEXT.sub('TEXT COLLATE "C"', out)
        if with_params:
            out = out.replace("%", "%%").replace("?", "%s")
        _translated[key] = out
    return out


class PgIntegrityError(sqlite3.IntegrityError):
    """A constraint the server enforced (a duplicate id...), as the store's code catches it."""


class _Row(tuple):
    """A row read by index or by column name, as ``sqlite3.Row``."""

    def __new__(cls, values, names: dict[str, int]):
        row = tuple.__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            key = self._names[key]
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _named_row(cursor):
    desc = cursor.description
    if desc is None:
        return tuple
    names = {d.name: i for i, d in enumerate(desc)}
    return lambda values: _Row(values, names)


class _Cursor:
    """The few cursor methods the store uses (``row_factory = None``: plain tuples)."""

    def __init__(self, conn: PgConnection):
        self._c = conn
        self.row_factory = _named_row
        self._cur = None

    def execute(self, sql: str, args=()) -> _Cursor:
        self._cur = self._c.execute(sql, args, row_factory=self.row_factory or tuple_row)
        return self

    def fetchall(self):
        return self._c.run(self._cur.fetchall)

    def fetchone(self):
        return self._c.run(self._cur.fetchone)

    def fetchmany(self, n: int):
        return self._c.run(lambda: self._cur.fetchmany(n))

    def __iter__(self):
        return iter(self.fetchall())


class _Result:
    """What :meth:`PgConnection.execute` returns for statements the store reads as SQLite's
    (a PRAGMA, an INSERT whose ``lastrowid`` is read)."""

    def __init__(self, rows: list, lastrowid: int | None = None):
        self._rows = rows
        self.lastrowid = lastrowid

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self):
        return list(self._rows)

    def __iter__(self):
        return iter(self._rows)


#: Statements whose new row's id the store reads (``cursor.lastrowid``).
_RETURNS_ID = ("INSERT INTO batches(",)


class PgConnection:
    """A psycopg connection with the surface of ``sqlite3.Connection`` the store uses, so the
    store's code (written for SQLite) runs unchanged on the server.

    Besides :func:`translate`, a few SQLite statements have their server meaning here:
    ``BEGIN IMMEDIATE`` begins and takes the write lock; ``ROLLBACK`` never fails (a lost
    connection has rolled back already); ``PRAGMA user_version`` reads the meta table;
    ``PRAGMA data_version`` counts other connections' committed changes (LISTEN/NOTIFY).
    Every driver error becomes a :class:`StoreError` sentence (a constraint violation
    becomes :class:`PgIntegrityError`, which the store catches as SQLite's).
    """

    def __init__(self, raw: psycopg.Connection, where: str, user: str):
        self.raw = raw
        self.where = where
        self.user = user
        self.lost = False
        self._seen = 0
        self._own_pid = raw.info.backend_pid
        raw.add_notify_handler(self._on_notify)

    # errors -------------------------------------------------------------
    def message(self, e: psycopg.Error, committing: bool = False) -> str:
        """One sentence for a failed statement."""
        srv = self.where
        if self.raw.closed or self.raw.broken or isinstance(e, (pg_errors.AdminShutdown,
                                                                pg_errors.CrashShutdown)):
            self.lost = True
            if committing:
                return (f"the connection to {srv} was lost while the change was being committed; "
                        "reopen the store to see whether it was saved")
            return (f"the connection to {srv} was lost (the server stopped or restarted); "
                    "the unfinished change was rolled back, nothing was written")
        if isinstance(e, pg_errors.InsufficientPrivilege):
            if not self.in_transaction:  # a read (writes are transactions)
                return (f"you are connected as {self.user}, which may not read {srv} (its administrator "
                        f"grants {READER} or {EDITOR})")
            return (f"you are connected as {self.user}, which may not change {srv}; "
                    "nothing was written")
        if isinstance(e, pg_errors.ReadOnlySqlTransaction):
            return f"{srv} is read-only (a standby server); nothing was written"
        if isinstance(e, pg_errors.DiskFull):
            return f"the disk of {srv} is full; nothing was written"
        if isinstance(e, (pg_errors.UndefinedTable, pg_errors.UndefinedColumn)):
            return (f"{srv} does not hold the tables this nkbrief expects ({_first_line(e)}); "
                    "ask the administrator to run nkbrief admin init-server")
        return f"{srv} refused the request: {_first_line(e)}"

    def run(self, fn, committing: bool = False):
        try:
            return fn()
        except pg_errors.IntegrityError as e:
            raise PgIntegrityError(_first_line(e)) from None
        except psycopg.Error as e:
            raise StoreError(self.message(e, committing)) from None

    # sqlite3.Connection's surface ---------------------------------------
    def execute(self, sql: str, args=(), *, row_factory=_named_row):
        special = self._special(sql, args)
        if special is not None:
            return special
        params = list(args) if args else None
        returns_id = sql.startswith(_RETURNS_ID)
        q = translate(sql, params is not None) + (" RETURNING id" if returns_id else "")
        cur = self.raw.cursor(row_factory=row_factory)
        self.run(lambda: cur.execute(q, params), committing=sql == "COMMIT")
        if returns_id:
            return _Result([], self.run(cur.fetchone)[0])
        return cur

    def _special(self, sql: str, args) -> _Result | None:
        if not sql.startswith(("BEGIN", "ROLLBACK", "PRAGMA")):
            return None
        if sql == "BEGIN IMMEDIATE":
            self.run(lambda: self.raw.execute("BEGIN"))
            self.run(lambda: self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,)))
            return _Result([])
        if sql == "ROLLBACK":
            if not self.raw.closed and self.in_transaction:
                with contextlib.suppress(psycopg.Error):
                    self.raw.execute("ROLLBACK")
            return _Result([])
        if sql == "PRAGMA user_version":
            return _Result([(schema_version(self),)])
        if sql == "PRAGMA data_version":
            return _Result([(self.data_version(),)])
        if sql.startswith("PRAGMA"):  # foreign_keys, synchronous, application_id: the server's own
            return _Result([(0,)])
        return None

    def executemany(self, sql: str, rows) -> None:
        q = translate(sql, True)
        rows = [list(r) for r in rows]
        if rows:
            with self.raw.cursor() as cur:
                self.run(lambda: cur.executemany(q, rows))

    def script(self, sql: str) -> None:
        """Run several statements given as one text (DDL; no parameters)."""
        self.run(lambda: self.raw.execute(sql))

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    @property
    def in_transaction(self) -> bool:
        if self.raw.closed or self.raw.broken:
            return False
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.raw.close()

    def insert_rows(self, table: str, columns: list[str], rows: list[tuple], constants: tuple = (),
                    progress: Progress | None = None, label: str = "") -> None:
        """``COPY`` the rows (each followed by ``constants``) into ``table``: the server's
        bulk path, several times faster than INSERTs of many rows."""
        tail = tuple(constants)
        cols = ", ".join(f'"{c}"' if c == "user" else c for c in columns)

        def copy() -> None:
            with self.raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
                write = cp.write_row
                for start in range(0, len(rows), 10_000):
                    report(progress, start, len(rows), label)
                    for r in rows[start:start + 10_000]:
                        write(r + tail)
        self.run(copy)

    # change listening ---------------------------------------------------
    def listen(self) -> None:
        self.script(f"LISTEN {CHANNEL}")

    def _on_notify(self, n: psycopg.Notify) -> None:
        if n.channel == CHANNEL and n.pid != self._own_pid:
            self._seen += 1

    def data_version(self) -> int:
        """A number that changes when another connection commits a change: the notifications
        that arrived are read without waiting and without a round trip to the server."""
        raw = self.raw
        if not self.in_transaction:
            try:
                with raw.lock:
                    pg = raw.pgconn
                    pg.consume_input()
                    while (n := pg.notifies()) is not None:
                        if n.relname.decode() == CHANNEL and n.be_pid != self._own_pid:
                            self._seen += 1
            except psycopg.Error as e:
                raise StoreError(self.message(e)) from None
        if raw.closed or raw.broken:
            self.lost = True
            raise StoreError(f"the connection to {self.where} was lost (the server stopped or restarted)")
        return self._seen

    def read_only_reason(self) -> str | None:
        """Why this login cannot change the store (a standby, or a role without the rights)."""
        row = self.execute(
            "SELECT pg_is_in_recovery(), has_table_privilege('events', 'INSERT, UPDATE, DELETE'), "
            "has_table_privilege('audit', 'INSERT'), has_table_privilege('batches', 'INSERT')").fetchone()
        if row[0]:
            return f"{self.where} is a read-only standby server, so it can be read but not changed"
        if not (row[1] and row[2] and row[3]):
            return f"you are connected as {self.user}, which can read but not change {self.where}"
        return None


def connect(target: str) -> PgConnection:
    """Connect to the server a target names (autocommit: the store's BEGIN/COMMIT decide)."""
    conninfo, parts = check_target(target)
    kw: dict = {"autocommit": True, "application_name": "nkbrief"}
    if "connect_timeout" not in parts:
        kw["connect_timeout"] = CONNECT_TIMEOUT
    try:
        raw = psycopg.connect(conninfo, **kw)
    except psycopg.Error as e:
        raise StoreError(connect_message(e, parts)) from None
    info = raw.info
    where = f"the team store {info.dbname!r} on {info.host}:{info.port}"
    try:
        user = raw.execute("SELECT current_user").fetchone()[0]
    except psycopg.Error as e:
        raw.close()
        raise StoreError(f"cannot read {where}: {_first_line(e)}") from None
    return PgConnection(raw, where, user)


# ------------------------------------------------------------------ schema
def ddl_from_sqlite(sqlite_ddl: str) -> str:
    """SQLite's CREATE statements of schema 1 as PostgreSQL's (types, keys, quoted user)."""
    out = sqlite_ddl.replace("INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    out = re.sub(r"\bINTEGER\b", "BIGINT", out)
    out = re.sub(r"\bREAL\b", "DOUBLE PRECISION", out)
    out = _TEXT.sub('TEXT COLLATE "C"', out)  # byte order, as SQLite compares text
    return _USER.sub('"user"', out)


#: Schema 2 on the server: the same step as SQLite's, with the CHECK changed in place.
V2_DDL = """
ALTER TABLE events ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE audit DROP CONSTRAINT audit_action_check;
ALTER TABLE audit ADD CONSTRAINT audit_action_check
  CHECK (action IN ('insert','update','delete','refused'));
"""

META_DDL = "CREATE TABLE nkbrief_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


def tables(conn: PgConnection) -> list[str]:
    """The tables (and views) in the schema the store lives in, sorted."""
    rows = conn.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                        "ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def foreign_tables(names: list[str]) -> list[str]:
    return [t for t in names if t not in OWN_TABLES]


def meta(conn: PgConnection) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute("SELECT key, value FROM nkbrief_meta").fetchall()}


def schema_version(conn: PgConnection) -> int:
    return int(meta(conn).get("schema_version", "0"))


def newer_message(where: str, version: int, supported: int) -> str:
    return f"{where} was written by a newer nkbrief (schema {version}); this one reads up to schema {supported}"


def check_store(conn: PgConnection, supported: int) -> int:
    """The schema version of the nkbrief store in the connected database; refuses (with the
    sentence an analyst reads) an empty database, one holding other tables, or a newer store."""
    where = conn.where
    names = tables(conn)
    if "nkbrief_meta" not in names:
        if not names:
            raise StoreError(f"{where} holds no nkbrief store yet; an administrator sets it up with "
                             "'nkbrief admin init-server' (see docs/team_store.md)")
        raise StoreError(f"{where} is not an nkbrief store (it holds other tables, e.g. "
                         f"{foreign_tables(names)[0]!r}); it was left untouched")
    info = meta(conn)
    if info.get("application") != APPLICATION:
        raise StoreError(f"{where} is not an nkbrief store (a database of another program); "
                         "it was left untouched")
    version = int(info.get("schema_version", "0"))
    if version > supported:
        raise StoreError(newer_message(where, version, supported))
    return version


def upgrade(conn: PgConnection, steps: list, supported: int) -> None:
    """Bring an older store to schema ``supported`` in one transaction, when this login owns
    the tables (else say who can). ``steps[v](conn)``: the step from schema v to v + 1."""
    owner = conn.execute(
        "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c "
        "WHERE c.relname = 'nkbrief_meta' AND c.relnamespace = to_regnamespace(current_schema())::oid"
    ).fetchone()
    version = schema_version(conn)
    if not owner or not owner[0]:
        raise StoreError(f"{conn.where} is at schema {version} and this nkbrief needs schema {supported}; "
                         "its administrator upgrades it with 'nkbrief admin init-server' (you are "
                         f"connected as {conn.user}, which may not)")
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(conn)  # another analyst may have upgraded it meanwhile
        for v in range(version, supported):
            steps[v](conn)
        conn.execute("UPDATE nkbrief_meta SET value = ? WHERE key = 'schema_version'", (str(supported),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


#: Server-side pieces, all idempotent: the audit records the database user (and the
#: server's clock), whatever a client sends; each committed change notifies listeners.
SERVER_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION nkbrief_stamp_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."user" := current_user;
  IF TG_TABLE_NAME = 'audit' THEN
    NEW.at_utc := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
  END IF;
  RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION nkbrief_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
  RETURN NULL;
END $$;
"""
TRIGGERS = {
    **{f"nkbrief_user_{t}": f"BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION nkbrief_stamp_user()"
       for t in ("audit", "batches")},
    **{f"nkbrief_notify_{t}": (f"AFTER INSERT OR UPDATE OR DELETE ON {t} "
                               "FOR EACH STATEMENT EXECUTE FUNCTION nkbrief_notify_change()")
       for t in ("events", "missiles", "statements", "calendar", "batches")},
}
#: table -> (the editor's privileges, the reader's). The audit is append-only for editors.
GRANTS = {
    "nkbrief_meta": ({"SELECT"}, {"SELECT"}),
    "batches": ({"SELECT", "INSERT", "UPDATE"}, {"SELECT"}),
    "events": ({"SELECT", "INSERT", "UPDATE", "DELETE"}, {"SELECT"}),
    "missiles": ({"SELECT", "INSERT", "UPDATE", "DELETE"}, {"SELECT"}),
    "statements": ({"SELECT", "INSERT", "UPDATE", "DELETE"}, {"SELECT"}),
    "calendar": ({"SELECT", "INSERT", "UPDATE", "DELETE"}, {"SELECT"}),
    "audit": ({"SELECT", "INSERT"}, {"SELECT"}),
}


def ensure_server_parts(conn: PgConnection) -> list[str]:
    """Create what is missing of the roles, functions, triggers and grants (inside the
    caller's transaction); returns what was done."""
    done = []
    existing = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname IN (?, ?)",
                                           (EDITOR, READER)).fetchall()}
    missing = [role for role in (EDITOR, READER) if role not in existing]
    if missing and not conn.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles "
                                    "WHERE rolname = current_user").fetchone()[0]:
        raise StoreError(f"the roles {' and '.join(missing)} do not exist yet on this server, and "
                         f"{conn.user} may not create roles: run init-server once as a login with "
                         "CREATEROLE (or as a superuser); nothing was changed")
    for role in missing:
        conn.script(f"CREATE ROLE {role} NOLOGIN")
        done.append(f"created role {role}")
    funcs = {r[0] for r in conn.execute(
        "SELECT proname FROM pg_proc WHERE proname IN ('nkbrief_stamp_user', 'nkbrief_notify_change') "
        "AND pronamespace = to_regnamespace(current_schema())::oid").fetchall()}
    if len(funcs) < 2:
        conn.script(SERVER_FUNCTIONS)
        done.append("created the audit and change-notification functions")
    have = {r[0] for r in conn.execute(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relnamespace = to_regnamespace(current_schema())::oid AND t.tgname LIKE 'nkbrief%'"
    ).fetchall()}
    made = [name for name in TRIGGERS if name not in have]
    for name in made:
        conn.script(f"CREATE TRIGGER {name} {TRIGGERS[name]}")
    if made:
        done.append(f"created {len(made)} audit and change triggers")
    present = set(tables(conn))
    granted: dict[tuple[str, str], set[str]] = {}
    for grantee, table, priv in conn.execute(
            "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee IN (?, ?) AND table_schema = current_schema()", (EDITOR, READER)).fetchall():
        granted.setdefault((grantee, table), set()).add(priv)
    changed = False
    for table, (editor, reader) in GRANTS.items():
        if table not in present:
            continue
        for role, want in ((EDITOR, editor), (READER, reader)):
            if granted.get((role, table), set()) != want:
                conn.script(f"REVOKE ALL ON {table} FROM {role}")
                conn.script(f"GRANT {', '.join(sorted(want))} ON {table} TO {role}")
                changed = True
    schema_name = conn.execute("SELECT quote_ident(current_schema())").fetchone()[0]
    seq_ok = conn.execute(
        "SELECT bool_and(has_sequence_privilege(?, c.oid, 'USAGE')) FROM pg_class c "
        "WHERE c.relkind = 'S' AND c.relnamespace = to_regnamespace(current_schema())::oid",
        (EDITOR,)).fetchone()[0]
    if seq_ok is False:
        conn.script(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema_name} TO {EDITOR}")
        changed = True
    usage = conn.execute("SELECT has_schema_privilege(?, current_schema(), 'USAGE'), "
                         "has_schema_privilege(?, current_schema(), 'USAGE')", (EDITOR, READER)).fetchone()
    if not all(usage):
        conn.script(f"GRANT USAGE ON SCHEMA {schema_name} TO {EDITOR}, {READER}")
        changed = True
    if changed:
        done.append(f"granted {EDITOR} and {READER} their rights")
    return done
