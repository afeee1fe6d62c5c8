"""The embedded SQLite store: migrations, transactions, import batches and an audit log.

One file holds everything. Every write runs inside one transaction (``with store.write()``),
so a failure anywhere leaves the file as it was. The store returns pandas frames for
reading and plain dicts for single records.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import getpass
import hashlib
import itertools
import json
import os
import re
import sqlite3
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from json.encoder import encode_basestring as _json_str
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd

from .. import privacy, write_guard
from ..common import UserError, gc_paused, sha256_file, shown  # noqa: F401 - part of the store's interface
from ..model import rules, schema
from ..progress import Progress, report
from ..resources import resource_path
from .errors import StoreError

SCHEMA_VERSION = 3
#: SQLite's application_id of an nkbrief store ("NKBR"): other programs' databases are
#: recognised and left alone.
APPLICATION_ID = 0x4E4B4252
#: Tables every nkbrief store has (a store written before the application_id was set is
#: recognised by them).
_OWN_TABLES = {"batches", "events", "missiles", "calendar", "statements", "audit"}

_EVENT_COLS = list(schema.EVENT_FIELDS)
_MISSILE_COLS = list(schema.MISSILE_FIELDS)
_CAL_COLS = list(schema.CALENDAR_FIELDS)
_STMT_COLS = list(schema.STATEMENT_FIELDS)

_SQL_TYPES = {"count": "INTEGER", "km": "REAL", "lat": "REAL", "lon": "REAL", "bool": "INTEGER"}


def _cols_sql(fields: dict[str, str], skip: tuple[str, ...] = ()) -> str:
    return ",\n  ".join(f"{n} {_SQL_TYPES.get(k, 'TEXT')}" for n, k in fields.items() if n not in skip)


#: The event columns of schema 1 (schema 3 added schema.EVENT_FIELDS_V2 by migration).
_V1_EVENT_FIELDS = {k: v for k, v in schema.EVENT_FIELDS.items() if k not in schema.EVENT_FIELDS_V2}


def _migrate_v3(conn: sqlite3.Connection) -> None:
    """Schema 3: number qualifiers and ``provenance``; the compiler's notes leave ``notes``.

    A store before schema 3 kept the bundled compiler notes in ``notes`` with anything the analyst
    typed appended. ``resources/notes_v1.json`` records the length and SHA-256 of every
    bundled notes text ever shipped for each event id: when an event's notes start with one of
    them, that prefix becomes ``provenance`` and only the rest stays in ``notes``. Anything
    else (an imported or hand-made event, or bundled notes the analyst edited inside) stays in
    ``notes`` untouched, so no analyst text is lost.
    """
    for name in schema.EVENT_FIELDS_V2:
        conn.execute(f"ALTER TABLE events ADD COLUMN {name} TEXT")
    legacy = json.loads(resource_path("notes_v1.json").read_text(encoding="utf-8"))["notes"]
    rows = conn.execute("SELECT id, notes FROM events WHERE notes IS NOT NULL AND notes != ''").fetchall()
    for eid, notes in rows:
        for n, digest in sorted(legacy.get(eid, ()), reverse=True):
            head = notes[:n]
            if len(head) == n and hashlib.sha256(head.encode("utf-8")).hexdigest() == digest:
                conn.execute("UPDATE events SET provenance = ?, notes = ? WHERE id = ?",
                             (head, notes[n:].strip(), eid))
                break


MIGRATIONS: list = [
    # v1: the first schema.
    f"""
CREATE TABLE batches (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('seed','import','manual','init')),
  file_name TEXT, sha256 TEXT, created_utc TEXT NOT NULL, user TEXT NOT NULL,
  added INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0,
  identical INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,
  undone_utc TEXT, details TEXT
);
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  {_cols_sql(_V1_EVENT_FIELDS, ('id',))},
  batch_id INTEGER NOT NULL REFERENCES batches(id),
  updated_utc TEXT
);
CREATE INDEX events_date ON events(date);
CREATE TABLE missiles (
  id INTEGER PRIMARY KEY,
  {_cols_sql(schema.MISSILE_FIELDS)},
  batch_id INTEGER NOT NULL REFERENCES batches(id),
  FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX missiles_event ON missiles(event_id);
CREATE TABLE calendar (
  id TEXT PRIMARY KEY,
  {_cols_sql(schema.CALENDAR_FIELDS, ('id',))},
  batch_id INTEGER NOT NULL REFERENCES batches(id)
);
CREATE INDEX calendar_date ON calendar(date);
CREATE TABLE statements (
  id INTEGER PRIMARY KEY,
  {_cols_sql(schema.STATEMENT_FIELDS)},
  batch_id INTEGER NOT NULL REFERENCES batches(id),
  FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX statements_event ON statements(event_id);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at_utc TEXT NOT NULL, user TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('insert','update','delete')),
  table_name TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT,
  old_value TEXT, new_value TEXT,
  batch_id INTEGER REFERENCES batches(id)
);
CREATE INDEX audit_record ON audit(table_name, record_id);
CREATE INDEX audit_batch ON audit(batch_id);
""",
    # v2: optimistic concurrency (issue 13). Every event carries a version, raised by one on
    # each update; an edit names the version it started from (Store.edit_event). The audit
    # also records edits that were refused because the event had changed since (action
    # 'refused'): SQLite cannot change a CHECK constraint in place, so the table is rebuilt,
    # in the same transaction as the rest of the step.
    """
ALTER TABLE events ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TABLE audit_v2 (
  id INTEGER PRIMARY KEY,
  at_utc TEXT NOT NULL, user TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('insert','update','delete','refused')),
  table_name TEXT NOT NULL, record_id TEXT NOT NULL, field TEXT,
  old_value TEXT, new_value TEXT,
  batch_id INTEGER REFERENCES batches(id)
);
INSERT INTO audit_v2(id, at_utc, user, action, table_name, record_id, field, old_value, new_value, batch_id)
  SELECT id, at_utc, user, action, table_name, record_id, field, old_value, new_value, batch_id FROM audit;
DROP TABLE audit;
ALTER TABLE audit_v2 RENAME TO audit;
CREATE INDEX audit_record ON audit(table_name, record_id);
CREATE INDEX audit_batch ON audit(batch_id);
""",
    # v3: qualifiers and provenance (issue 14).
    _migrate_v3,
]


def _when(at_utc: str | None) -> str:
    """'2026-12-07T09:50:02Z' as '2026-12-07 09:50:02 UTC' (for messages)."""
    if not at_utc:
        return "an unknown time"
    return at_utc.replace("T", " ").removesuffix("Z") + (" UTC" if at_utc.endswith("Z") else "")


class VersionConflict(StoreError):
    """An edit refused because the event changed since the editor read it.

    ``yours``: the changes that were refused; ``theirs``: the event's current values of
    those fields; ``base_version``: the version the edit started from (None for an undo,
    which checks values instead); ``version``: the event's version now; ``user`` and
    ``at_utc``: who made the last change and when, as the audit records them.
    """

    def __init__(self, event_id: str, yours: dict, theirs: dict, base_version: int | None,
                 version: int, user: str, at_utc: str | None, *, undo: bool = False):
        self.event_id, self.yours, self.theirs = event_id, dict(yours), dict(theirs)
        self.base_version, self.version, self.user, self.at_utc = base_version, version, user, at_utc
        if undo:
            fields = ", ".join(k.replace("_", " ") for k in self.yours)
            msg = (f"{fields} of event {event_id!r} was changed by {user} at {_when(at_utc)} since "
                   "your edit, so it was not written over")
        else:
            msg = (f"event {event_id!r} was changed by {user} at {_when(at_utc)} since you opened it "
                   f"(you started from version {base_version}; it is now version {version})")
        super().__init__(msg)

    @property
    def when(self) -> str:
        """When the last change was made, for messages ('2026-12-07 09:50:02 UTC')."""
        return _when(self.at_utc)


def server_migrations(pg) -> list:
    """The schema steps on a PostgreSQL server (``pg``: :mod:`.pg`), index v = the step from
    schema v to v + 1, as :data:`MIGRATIONS`: schema 1 is SQLite's DDL translated, schema 3 the
    same Python step (its SQL translated by the connection)."""
    return [lambda c: c.script(pg.ddl_from_sqlite(MIGRATIONS[0])), lambda c: c.script(pg.V2_DDL), _migrate_v3]


def _sqlite_code(e: BaseException) -> int | None:
    return getattr(e, "sqlite_errorcode", None)


def sqlite_message(path: Path, e: sqlite3.Error, doing: str = "write to") -> str:
    """A SQLite error as one sentence naming what went wrong: a locked store as locked, a
    full disk as a full disk, a read-only file as read-only."""
    code = (_sqlite_code(e) or 0) & 0xFF
    where = shown(path)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(e):
        return (f"the store {where} is locked by another program (another nkbrief still writing?); "
                "try again when it has finished")
    if code == sqlite3.SQLITE_FULL or "disk is full" in str(e):
        return (f"the disk holding the store {where} is full; nothing was written "
                "(free some space and try again)")
    if code == sqlite3.SQLITE_READONLY or "readonly" in str(e):
        return f"the store {where} is read-only; nothing was written"
    if code == sqlite3.SQLITE_IOERR:
        return f"cannot {doing} the store {where}: a disk error ({e})"
    return f"cannot {doing} the store {where}: {e}"


def _sqlite_read_only_reason(p: Path) -> str | None:
    """Why the store file cannot be written (no write permission on it or on its folder,
    where SQLite writes its journal), or None."""
    if not os.access(p, os.W_OK):
        return f"the store file {shown(p)} is read-only (no write permission), so it can be read but not changed"
    if not os.access(p.parent, os.W_OK):
        return (f"the folder of the store {shown(p)} is read-only (no write permission), so the store "
                "can be read but not changed")
    return None


def stored_values_outside_rules(path: Path) -> tuple[list[dict], str | None]:
    """(values that break the value rules, a problem sentence or None) of the store at
    ``path``, read through a read-only connection: the store is never created or changed
    (for ``selfcheck``). A missing or empty file has none."""
    if not path.is_file() or path.stat().st_size == 0:
        return [], None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return [], None
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] not in (0, APPLICATION_ID):
            return [], f"store: {shown(path)} is not an nkbrief store"
        return values_outside_rules(conn), None
    except sqlite3.Error as e:
        return [], f"store: cannot be read ({e})"
    finally:
        conn.close()


def is_server_target(target: object) -> bool:
    """True for a team store on a PostgreSQL server: a libpq URL (``postgresql://…``,
    ``postgres://…``) or a service name (``service=NAME``); anything else is a file path."""
    return isinstance(target, str) and target.strip().startswith(("postgresql://", "postgres://", "service="))


def default_db_target() -> str | Path:
    """NKBRIEF_DB as given when it names a server, else :func:`default_db_path`."""
    env = os.environ.get("NKBRIEF_DB", "")
    return env.strip() if is_server_target(env) else default_db_path()


def default_db_path() -> Path:
    """--db is handled by callers; then NKBRIEF_DB; then the platform user-data folder."""
    env = os.environ.get("NKBRIEF_DB")
    if env:
        return Path(env).expanduser()
    return privacy.user_folders()["data"] / "nkbrief.sqlite3"


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name on some locked-down sessions
        return "unknown"


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(kind: str, v: object) -> object:
    if v is None:
        return None
    if kind == "list":
        return json.dumps(list(v), ensure_ascii=False)
    if kind == "bool":
        return int(bool(v))
    return v


def _decode_row(fields: dict[str, str], row: sqlite3.Row) -> dict:
    out = {}
    for n, k in fields.items():
        v = row[n]
        if k == "list":
            v = json.loads(v) if v else []
        elif k == "bool" and v is not None:
            v = bool(v)
        out[n] = v
    return out


def _json(v: object) -> str | None:
    return None if v is None else json.dumps(v, ensure_ascii=False, sort_keys=True)


def _json_list(v: object) -> str:
    """``json.dumps(list(v), ensure_ascii=False)`` for a list of text, without the encoder's
    per-call overhead (checked equal in tests/core/test_store_bulk.py)."""
    items = list(v or [])
    if all(x.__class__ is str for x in items):
        return "[" + ", ".join(map(_json_str, items)) + "]"
    return json.dumps(items, ensure_ascii=False)


#: What json.dumps escapes in a string (with ensure_ascii=False).
_JSON_ESCAPED = re.compile(r'[\x00-\x1f\\"]')


def _json_lists(values: list) -> list[str]:
    """:func:`_json_list` for every value of a column (checked equal in
    tests/core/test_import_store.py): when every value is a list of text with nothing to
    escape, the JSON is put together directly."""
    if set(map(type, values)) == {list}:
        flat = list(itertools.chain.from_iterable(values))
        if set(map(type, flat)) <= {str} and not _JSON_ESCAPED.search("".join(flat)):
            return ['["' + '", "'.join(v) + '"]' if v else "[]" for v in values]
    return [_json_list(v) for v in values]


_EVENT_FIELD_SET = frozenset(schema.EVENT_FIELDS)
_FIRST = itemgetter(0)
assert _EVENT_COLS[0] == "id"
_EVENT_DEFAULTS = schema.empty_event()
_INSERT_AUDIT_SQL = ("INSERT INTO audit(at_utc, user, action, table_name, record_id, field, old_value, "
                     "new_value, batch_id) VALUES (?,?,?,?,?,?,?,?,?)")


def _columns(evs: list[dict]) -> list[list] | None:
    """The events' values field by field, when every event has exactly the schema's fields
    (else None)."""
    n = len(_EVENT_COLS)
    if not all(len(ev) == n for ev in evs):
        return None
    try:  # n fields, all of them found: exactly the schema's fields
        return [list(map(itemgetter(f), evs)) for f in _EVENT_COLS]
    except KeyError:
        return None


#: Rows per INSERT statement in bulk writes: one statement with many VALUES rows costs
#: less per row than executemany of single-row statements (about 25% less at 20 columns).
_ROWS_PER_STATEMENT = 50


def _insert_rows(c: sqlite3.Connection, table: str, columns: list[str], rows: list[tuple],
                 constants: tuple = (), progress: Progress | None = None, label: str = "") -> None:
    """INSERT ``rows`` into ``table``, many rows per statement, in the order given.

    Each row holds the values of the first ``len(columns) - len(constants)`` columns; the
    last columns get ``constants`` (bound once per statement, after the rows' values). Rows
    per statement stay within this SQLite build's limit on bound variables.
    """
    if c.__class__ is not sqlite3.Connection:  # a team store: the server's bulk path (COPY)
        return c.insert_rows(table, columns, rows, constants, progress, label)
    width = len(columns) - len(constants)
    k = len(constants)
    limit = c.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(_ROWS_PER_STATEMENT, (limit - k) // max(width, 1)))

    def statement(n_rows: int) -> str:  # the rows' values first, then the constants
        consts = [f"?{n_rows * width + j}" for j in range(1, k + 1)]
        groups = []
        for r in range(n_rows):
            cells = [f"?{r * width + j}" for j in range(1, width + 1)]
            groups.append("(" + ", ".join(cells + consts) + ")")
        return f"INSERT INTO {table}({', '.join(columns)}) VALUES " + ", ".join(groups)

    full_sql = statement(per)
    step = per * 200
    size = per * width
    tail = list(constants)
    for start in range(0, len(rows), step):
        report(progress, start, len(rows), label)
        flat = list(itertools.chain.from_iterable(rows[start:start + step]))
        whole = len(flat) - len(flat) % size
        if whole:
            c.executemany(full_sql, (flat[j:j + size] + tail for j in range(0, whole, size)))
        if whole < len(flat):
            c.execute(statement((len(flat) - whole) // width), flat[whole:] + tail)


def bulk_layout(cols: list[list]) -> tuple[list[int], list[int]]:
    """How a bulk insert binds columns: (the columns bound row by row, the columns of one
    text value throughout, bound once per statement). Columns null throughout are left out
    (the schema's default is null); the first column (the id) is always bound per row."""
    n = len(cols[0])
    varying, same = [], []
    for i, col in enumerate(cols):
        first = col[0]
        # Each full count only when the ends agree: a column that varies almost always shows
        # it at its last value, and most columns vary (41 counts of 100k values were ~5% of
        # a 100k-row import's write before).
        if first is None and col[-1] is None and col.count(None) == n:
            continue
        if i and first.__class__ is str and col[-1] == first and col.count(first) == n:
            same.append(i)  # equal text is identical text
        else:
            varying.append(i)
    return varying, same


def _why_not_inserted(store: Store, ids: list, e: sqlite3.IntegrityError) -> str:
    seen: set = set()
    for i in ids:
        if i in seen:
            return f"event {i!r} is given twice"
        seen.add(i)
        if store.has_event(i):
            return f"event {i!r} is already in the store"
    return f"the events cannot be stored ({e})"


def _validate_each(evs: list[dict]) -> None:
    for ev in evs:
        rep = schema.validate_event(ev)
        if not rep.ok:
            raise StoreError(f"event {ev.get('id')!r}: {rep}")


_NUMBER = (int, float)
_NONE = type(None)

_DIGITS_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _canonical_utc(values: list) -> bool:
    """True when every value is 'YYYY-MM-DDTHH:MM:SSZ' naming a real day and time from
    year 1 on (so ``schema.check_value('iso', ...)`` passes it); False: look closer.

    Checked on the characters' codes with numpy, all values at once (a regular expression
    and a date parse per value took five times as long at 100k values).
    """
    try:
        joined = "\n".join(values) + "\n"
    except TypeError:  # not all text
        return False
    if len(joined) != 21 * len(values) or not joined.isascii():
        return False
    # one row of 21 codes per value; each value's 20 characters are checked below not to be
    # a line break, so a value of another length would put a line break out of place
    c = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 21).astype(np.int32) - 48
    if not (c[:, 20] == ord("\n") - 48).all():
        return False
    if c[:, _DIGITS_AT].min() < 0 or c[:, _DIGITS_AT].max() > 9:
        return False
    seps = c[:, [4, 7, 10, 13, 16, 19]] + 48
    if not (seps == [ord("-"), ord("-"), ord("T"), ord(":"), ord(":"), ord("Z")]).all():
        return False
    year = c[:, 0] * 1000 + c[:, 1] * 100 + c[:, 2] * 10 + c[:, 3]
    month = c[:, 5] * 10 + c[:, 6]
    day = c[:, 8] * 10 + c[:, 9]
    if year.min() < 1 or month.min() < 1 or month.max() > 12 or day.min() < 1:
        return False
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    if (day > _MONTH_DAYS[month - 1] + ((month == 2) & leap)).any():
        return False
    return bool((c[:, 11] * 10 + c[:, 12]).max() < 24 and (c[:, 14] * 10 + c[:, 15]).max() < 60
                and (c[:, 17] * 10 + c[:, 18]).max() < 60)


def _column_ok(name: str, kind: str, values: list) -> bool:
    """True when no value of the column breaks its rule (:mod:`nkbrief.model.rules`; False: look
    closer). ``validate_event`` skips None and "" (no value); so does this.
    """
    rule = rules.rule_for(name, kind)
    try:
        if kind == "str":
            return (set(map(type, values)) <= {str, _NONE}
                    and max(map(len, filter(None, values)), default=0) <= schema.MAX_TEXT_CHARS
                    and rules.is_encodable("".join(filter(None, values))))
        if kind == "iso":  # (nkbrief's own UTC times are all distinct: no set first)
            present = list(filter(None, values))
            if not present or (_canonical_utc(present) and rules.utc_in_bounds(min(present))
                                and rules.utc_in_bounds(max(present))):
                return True
        if kind in ("date", "precision", "hhmm", "iso", "class", "outcome", "confirmation", "qualifier"):
            distinct = set(values)
            distinct.discard(None)
            distinct.discard("")
            if not distinct:
                return True
            if kind == "date":  # one bound check by min and max
                return rules.column_ok(rule, list(distinct))
            return all(rules.check(rule, v) is None for v in distinct)
        types = set(map(type, values))
        if str in types:  # only "" would be skipped; anything else is wrong
            values = [v for v in values if v is not None and v != ""]
            types = set(map(type, values))
        types.discard(_NONE)
        if not types:
            return True
        if kind == "list":
            if _NONE in set(map(type, values)):
                values = [v for v in values if v is not None]
            return (types == {list} and set(map(type, itertools.chain.from_iterable(values))) <= {str}
                    and rules.is_encodable("".join(itertools.chain.from_iterable(values))))
        if kind == "bool":
            return types == {bool}
        return rules.column_ok(rule, values)
    except TypeError:  # unhashable or incomparable values: let validate_event say what is wrong
        return False


def _columns_valid(cols: list[list]) -> bool:
    """``schema.validate_event`` for complete events given as columns: True when every event
    passes (False: some event may not; the caller then checks them one by one)."""
    col = dict(zip(_EVENT_COLS, cols))
    for name, kind in schema.EVENT_FIELDS.items():
        if not _column_ok(name, kind, col[name]):
            return False
    for name in ("id", "date", "missile_class"):
        if None in col[name] or "" in col[name]:
            return False
    for lo, hi in (("distance_km", "distance_km_max"), ("apogee_km", "apogee_km_max")):
        if col[hi].count(None) == len(col[hi]):
            continue
        for a, b in zip(col[lo], col[hi]):
            if isinstance(a, _NUMBER) and isinstance(b, _NUMBER) and b < a:
                return False
    if {"month", "year"} & set(col["date_precision"]):
        for p, t in zip(col["date_precision"], col["time_kst"]):
            if t and p in ("month", "year"):
                return False
    lat, lon = col["latitude"], col["longitude"]
    if lat.count(None) == lon.count(None) == 0:
        return True
    return all((a is None) == (b is None) for a, b in zip(lat, lon))


class Store:
    """An open nkbrief store. Use :meth:`open`."""

    #: "sqlite" (a file) or "postgresql" (a team store on a server; see :mod:`.pg`).
    engine = "sqlite"

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        #: What :meth:`open` takes to open this store again (a worker's own connection).
        self.target: str = str(path)
        #: The store for messages and the status bar.
        self.where: str = str(path)
        #: None when the store can be written; else one sentence saying why it cannot.
        self.read_only_reason: str | None = None
        self._conn = conn
        self._listeners: list[Callable[[str], None]] = []
        self._in_write = False
        self._pending: set[str] = set()
        self._protected = False  # registered with the write guard (see open)
        self.user = current_user()
        #: What opening tightened (folder or file modes), to be told to the analyst once.
        self.privacy_notes: list[str] = []

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, seed: bool = True) -> Store:
        """Open (creating and migrating if needed) the store at ``path``.

        A brand-new store is seeded from the bundled dataset unless ``seed`` is False.
        ``path`` may also name a team store on a PostgreSQL server (:func:`is_server_target`),
        set up beforehand by ``nkbrief admin init-server`` (``seed`` does not apply there).
        """
        target = path if path else default_db_target()
        if is_server_target(target):
            # Deferred (start-up): psycopg is loaded only for a team store; importing it up front
            # would add about 0.19 s to every start of the default SQLite store (python -X
            # importtime after nkbrief.store, median of 7 runs, 2026-12-07, load average 4).
            from . import pg

            return cls._open_server(pg, str(target).strip())
        p = Path(target).expanduser()
        where = shown(p)
        if p.is_dir():
            raise StoreError(f"{where} is a folder, not a store file")
        new = not p.exists() or p.stat().st_size == 0
        own = privacy.is_own_store(p)
        notes: list[str] = []
        try:
            # Folders nkbrief creates are 0700; its own data folder is tightened if wider.
            notes += privacy.make_private_dir(p.parent, tighten=own)
        except OSError as e:
            raise StoreError(f"cannot create the folder for the store {where}: {e.strerror}") from None
        if new:
            # Created 0600 before SQLite opens it: SQLite gives its -wal, -shm and -journal
            # files the store's own mode, whatever the umask.
            try:
                privacy.create_private_file(p)
            except OSError as e:
                raise StoreError(f"cannot create the store {where}: {e.strerror}") from None
        if own:
            # A store the analyst chose elsewhere (--db) is left as it is; selfcheck reports it.
            try:
                notes += privacy.tighten_store(p)
            except OSError as e:
                raise StoreError(f"cannot make the store {where} private: {e.strerror}") from None
        conn = None
        try:
            conn = sqlite3.connect(p, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as e:
            if conn is not None:
                conn.close()
            code = (_sqlite_code(e) or 0) & 0xFF
            if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL) \
                    or "locked" in str(e) or "disk is full" in str(e):
                raise StoreError(sqlite_message(p, e, "open")) from None
            raise StoreError(f"{where} is not an nkbrief store ({e})") from None
        ours = app_id == APPLICATION_ID or (app_id == 0 and version >= 1 and _OWN_TABLES <= tables)
        if not ours and (app_id != 0 or version != 0 or tables):
            conn.close()
            raise StoreError(f"{where} is not an nkbrief store (a database of another program); "
                             "it was left untouched")
        store = cls(p, conn)
        store.privacy_notes = notes
        store.read_only_reason = _sqlite_read_only_reason(p)
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"{where} was written by a newer nkbrief (schema {version}); "
                             f"this one reads up to schema {SCHEMA_VERSION}")
        if version < SCHEMA_VERSION:
            store._migrate(version)
        elif app_id != APPLICATION_ID:
            store._set_application_id()
        write_guard.protect_store(p)
        store._protected = True
        if new and seed:
            store.seed_from_resources()
        return store

    @classmethod
    def _open_server(cls, pg, target: str) -> Store:
        """Open the team store on a PostgreSQL server (``pg``: :mod:`.pg`): the same store,
        its SQL translated by the connection. An older schema is upgraded when this login owns
        the tables; a newer one, an empty database or one holding other tables is refused."""
        conn = pg.connect(target)
        try:
            version = pg.check_store(conn, SCHEMA_VERSION)
            if version < SCHEMA_VERSION:
                pg.upgrade(conn, server_migrations(pg), SCHEMA_VERSION)
            store = cls(None, conn)  # type: ignore[arg-type]
            store.engine = "postgresql"
            store.target, store.where, store.user = target, conn.where, conn.user
            conn.listen()
            store.read_only_reason = conn.read_only_reason()
        except BaseException:
            conn.close()
            raise
        return store

    def _set_application_id(self) -> None:
        """Mark a store made before the application_id existed as ours (best effort: a
        read-only store stays as it is)."""
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def close(self) -> None:
        self._conn.close()
        if self._protected:
            self._protected = False
            write_guard.release_store(self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _migrate(self, version: int) -> None:
        for v in range(version, SCHEMA_VERSION):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                step = MIGRATIONS[v]
                if callable(step):
                    step(self._conn)
                else:
                    for stmt in _split_sql(step):
                        self._conn.execute(stmt)
                self._conn.execute(f"PRAGMA user_version = {v + 1}")
                self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                self._conn.execute("COMMIT")
            except sqlite3.Error as e:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                self._conn.close()
                raise StoreError(sqlite_message(self.path, e, f"upgrade to schema {v + 1}")) from None

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    # ------------------------------------------------------------- transactions
    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: everything inside commits together or not at all."""
        if self._in_write:
            yield self._conn
            return
        if self.read_only_reason:
            raise StoreError(f"{self.read_only_reason}; nothing was written")
        self._in_write = True
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._pending.clear()
                if self._conn.in_transaction:  # (SQLite may already have rolled back, e.g. disk full)
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except (sqlite3.Error, StoreError):
                self._pending.clear()
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as e:
            raise StoreError(sqlite_message(self.path, e)) from None
        finally:
            self._in_write = False
        changed, self._pending = self._pending, set()
        for what in sorted(changed):
            for cb in list(self._listeners):
                cb(what)

    def on_change(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(kind)`` after a commit that changed events/calendar/statements."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[str], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    def notify(self, kind: str) -> None:
        """Tell listeners that ``kind`` changed through another connection (e.g. a worker's)."""
        for cb in list(self._listeners):
            cb(kind)

    def _touch(self, kind: str) -> None:
        self._pending.add(kind)

    def new_batch(self, kind: str, file_name: str | None = None, sha256: str | None = None,
                  details: dict | None = None) -> int:
        with self.write() as c:
            cur = c.execute(
                "INSERT INTO batches(kind, file_name, sha256, created_utc, user, details) "
                "VALUES (?,?,?,?,?,?)",
                (kind, file_name, sha256, utc_now(), self.user, _json(details)))
            return cur.lastrowid

    def finish_batch(self, batch_id: int, **counts: int) -> None:
        sets = ", ".join(f"{k} = ?" for k in counts)
        with self.write() as c:
            c.execute(f"UPDATE batches SET {sets} WHERE id = ?", (*counts.values(), batch_id))

    def _audit(self, action: str, table: str, record_id: str, field: str | None,
               old: object, new: object, batch_id: int | None) -> None:
        self._conn.execute(
            "INSERT INTO audit(at_utc, user, action, table_name, record_id, field, old_value, "
            "new_value, batch_id) VALUES (?,?,?,?,?,?,?,?,?)",
            (utc_now(), self.user, action, table, record_id, field, _json(old), _json(new), batch_id))

    # ------------------------------------------------------------------ events
    def insert_event(self, ev: dict, batch_id: int, *, missiles: Iterable[dict] = (),
                     statements: Iterable[dict] = (), audit: bool = True) -> None:
        """Insert one validated event (and its missiles and statements)."""
        rep = schema.validate_event(ev)
        if not rep.ok:
            raise StoreError(f"event {ev.get('id')!r}: {rep}")
        full = schema.empty_event() | ev
        with self.write() as c:
            c.execute(
                f"INSERT INTO events({', '.join(_EVENT_COLS)}, batch_id, updated_utc) "
                f"VALUES ({', '.join('?' * len(_EVENT_COLS))}, ?, ?)",
                (*[_encode(schema.EVENT_FIELDS[n], full[n]) for n in _EVENT_COLS], batch_id, utc_now()))
            for m in missiles:
                self._insert_missile(m | {"event_id": full["id"]}, batch_id)
            for s in statements:
                self._insert_statement(s | {"event_id": full["id"]}, batch_id)
            if audit:
                self._audit("insert", "events", full["id"], None, None, full, batch_id)
            self._touch("events")

    def insert_events(self, events: Iterable[dict], batch_id: int, *,
                      missiles: Mapping[str, Iterable[dict]] | None = None,
                      statements: Mapping[str, Iterable[dict]] | None = None,
                      audit: bool = True, progress: Progress | None = None) -> list[str]:
        """Insert many new events, with their missiles and statements, in one transaction.

        Stores exactly what :meth:`insert_event` would store for each event (missing
        fields get the schema's defaults). Every event is validated with the rules of
        :func:`nkbrief.model.schema.validate_event` -- checked a column at a time, and when a
        column looks wrong, event by event -- and the first invalid one raises
        :class:`StoreError` with ``validate_event``'s message; missiles and statements
        are validated one by one. Nothing is written unless all of it is valid.

        ``missiles`` and ``statements`` map an event id to its rows. ``audit=True``
        writes one 'insert' audit row per event with the full record, as
        :meth:`insert_event` does; ``audit=False`` writes none, for callers that record
        the whole batch instead (the seed; imports, see :meth:`audit_batch`).
        Events are written in id order (B-tree inserts in key order are much cheaper),
        missiles, statements and audit rows in the order given. ``progress`` hears how
        many events are written. Returns the ids, in the order given.
        """
        evs = events if isinstance(events, list) else list(events)
        if not evs:
            return []
        full = evs
        cols = _columns(evs)  # a column at a time, in the events' own order (as they sit in memory)
        if cols is None:  # events with fewer (or other) fields: validated as given, like insert_event
            _validate_each(evs)
            full = [_EVENT_DEFAULTS | ev for ev in evs]
            cols = [list(map(itemgetter(n), full)) for n in _EVENT_COLS]
        elif not _columns_valid(cols):
            _validate_each(evs)
        return self._insert_columns(cols, batch_id, missiles, statements, full if audit else None, progress)

    def insert_event_columns(self, columns: Mapping[str, list], batch_id: int, *,
                             missiles: Mapping[str, Iterable[dict]] | None = None,
                             statements: Mapping[str, Iterable[dict]] | None = None,
                             audit: bool = True, progress: Progress | None = None) -> list[str]:
        """:meth:`insert_events` for complete events given as columns: ``columns`` maps
        every schema field to one value per event (the lists are read, never changed).
        The same validation, the same rows, without building a dict per event."""
        names = set(columns)
        if names != set(_EVENT_COLS):
            missing, extra = set(_EVENT_COLS) - names, names - set(_EVENT_COLS)
            raise StoreError("events given as columns need exactly the schema's fields"
                             + (f"; missing: {', '.join(sorted(missing))}" if missing else "")
                             + (f"; unknown: {', '.join(sorted(extra))}" if extra else ""))
        cols = [columns[n] for n in _EVENT_COLS]
        n = len(cols[0])
        if any(len(c) != n for c in cols):
            raise StoreError("events given as columns need one value per event in every field")
        if not n:
            return []
        full = None
        if not _columns_valid(cols) or audit:
            full = [dict(zip(_EVENT_COLS, values)) for values in zip(*cols)]
            _validate_each(full)
        return self._insert_columns(list(cols), batch_id, missiles, statements, full if audit else None,
                                    progress)

    def _insert_columns(self, cols: list[list], batch_id: int, missiles: Mapping | None,
                        statements: Mapping | None, audited: list[dict] | None,
                        progress: Progress | None) -> list[str]:
        """Write validated complete events given as columns (in ``_EVENT_COLS`` order; the
        list ``cols`` is changed, the columns in it are not), their missiles and statements;
        ``audited``: the events to write one 'insert' audit row each for."""
        ids = cols[0]
        mis_rows, st_rows = [], []
        for ev_id in ids if missiles else ():  # in the order of the events, as insert_event
            for m in missiles.get(ev_id, ()):
                rec = m | {"event_id": ev_id}
                rep = schema.validate_missile(rec)
                if not rep.ok:
                    raise StoreError(f"missile of event {ev_id!r}: {rep}")
                mis_rows.append((*[_encode(schema.MISSILE_FIELDS[n], rec.get(n)) for n in _MISSILE_COLS], batch_id))
        for ev_id in ids if statements else ():
            for st in statements.get(ev_id, ()):
                rec = st | {"event_id": ev_id}
                rep = schema.validate_statement(rec)
                if not rep.ok:
                    raise StoreError(f"statement for event {ev_id!r}: {rep}")
                st_rows.append((*[rec.get(n) for n in _STMT_COLS], batch_id))
        for i, n in enumerate(_EVENT_COLS):  # how the store keeps lists and booleans
            kind = schema.EVENT_FIELDS[n]
            if kind == "list":
                cols[i] = _json_lists(cols[i])
            elif kind == "bool":
                cols[i] = [None if v is None else int(bool(v)) for v in cols[i]]
        now = utc_now()
        with self.write() as c:
            varying, same = bulk_layout(cols)
            rows = list(zip(*(cols[i] for i in varying)))
            rows.sort(key=_FIRST)  # "id" first: B-tree inserts in key order are much cheaper
            c.execute("SAVEPOINT insert_events")
            try:
                _insert_rows(c, "events", [*(_EVENT_COLS[i] for i in varying + same), "batch_id", "updated_utc"],
                             rows, (*(cols[i][0] for i in same), batch_id, now), progress, "Writing events")
            except sqlite3.IntegrityError as e:
                c.execute("ROLLBACK TO insert_events")
                raise StoreError(_why_not_inserted(self, ids, e)) from None
            c.execute("RELEASE insert_events")
            if mis_rows:
                c.executemany(f"INSERT INTO missiles({', '.join(_MISSILE_COLS)}, batch_id) "
                              f"VALUES ({', '.join('?' * len(_MISSILE_COLS))}, ?)", mis_rows)
            if st_rows:
                c.executemany(f"INSERT INTO statements({', '.join(_STMT_COLS)}, batch_id) "
                              f"VALUES ({', '.join('?' * len(_STMT_COLS))}, ?)", st_rows)
                self._touch("statements")
            if audited is not None:
                user = self.user
                c.executemany(_INSERT_AUDIT_SQL, ((now, user, "insert", "events", ev["id"], None, None,
                                                   _json(ev), batch_id) for ev in audited))
            self._touch("events")
        return ids

    def audit_batch(self, batch_id: int, summary: dict) -> None:
        """Record a whole batch in the audit log as one row: action 'insert', table
        'batches', record id the batch id, ``summary`` (JSON) as the new value.

        An import records the ids of the events it added here (instead of one audit
        row per event); :func:`nkbrief.importing.merge.undo_batch` reads them back.
        """
        self._audit("insert", "batches", str(batch_id), None, None, summary, batch_id)

    def batch_summaries(self, batch_id: int) -> list[dict]:
        """The summaries :meth:`audit_batch` recorded for ``batch_id``, oldest first."""
        rows = self._conn.execute(
            "SELECT new_value FROM audit WHERE batch_id = ? AND table_name = 'batches' "
            "AND action = 'insert' ORDER BY id", (batch_id,)).fetchall()
        return [json.loads(r[0]) for r in rows if r[0]]

    def _insert_missile(self, m: dict, batch_id: int) -> None:
        rep = schema.validate_missile(m)
        if not rep.ok:
            raise StoreError(f"missile of event {m.get('event_id')!r}: {rep}")
        self._conn.execute(
            f"INSERT INTO missiles({', '.join(_MISSILE_COLS)}, batch_id) "
            f"VALUES ({', '.join('?' * len(_MISSILE_COLS))}, ?)",
            (*[_encode(schema.MISSILE_FIELDS[n], m.get(n)) for n in _MISSILE_COLS], batch_id))

    def _insert_statement(self, s: dict, batch_id: int) -> None:
        rep = schema.validate_statement(s)
        if not rep.ok:
            raise StoreError(f"statement for event {s.get('event_id')!r}: {rep}")
        self._conn.execute(
            f"INSERT INTO statements({', '.join(_STMT_COLS)}, batch_id) VALUES (?,?,?,?,?)",
            (*[s.get(n) for n in _STMT_COLS], batch_id))
        self._touch("statements")

    def add_statement(self, s: dict, batch_id: int | None = None) -> None:
        with self.write():
            b = batch_id or self.new_batch("manual")
            self._insert_statement(s, b)
            self._audit("insert", "statements", s["event_id"], s.get("actor"), None, s, b)

    def update_event(self, event_id: str, changes: dict, *, batch_id: int | None = None,
                     if_version: int | None = None, expect: dict | None = None) -> dict:
        """Change fields of one event; each changed field is audited. Returns the old values.
        ``if_version`` and ``expect``: see :meth:`edit_event`."""
        return self.edit_event(event_id, changes, batch_id=batch_id, if_version=if_version,
                               expect=expect)[0]

    def edit_event(self, event_id: str, changes: dict, *, batch_id: int | None = None,
                   if_version: int | None = None, expect: dict | None = None) -> tuple[dict, int]:
        """Change fields of one event, optimistically: returns (the old values of the fields
        that changed, the event's version after the edit).

        ``if_version``: the version the editor read; when the event's version is another one,
        nothing changes and :class:`VersionConflict` is raised. ``expect``: {field: value}
        the event must still hold (an undo states what its edit wrote, so it never
        overwrites a later change by someone else). A refused edit is recorded in the audit
        log (action 'refused', old value = the value found, new value = the one refused),
        committed even though the edit is not. The check and the write are one transaction
        (BEGIN IMMEDIATE), so two processes cannot both pass the check.
        """
        if "id" in changes and changes["id"] != event_id:
            raise StoreError("an event's id cannot be changed")
        conflict = None
        with self.write() as c:
            old = self.get_event(event_id)
            if old is None:
                raise StoreError(f"no event with id {event_id!r}")
            version = self.event_version(event_id)
            stale = [] if expect is None else [k for k, v in expect.items() if old.get(k) != v]
            if (if_version is not None and version != if_version) or stale:
                user, at = self._last_change(event_id, stale or None)
                theirs = {k: old.get(k) for k in changes}
                conflict = VersionConflict(event_id, changes, theirs, if_version, version, user, at,
                                           undo=bool(stale) and if_version is None)
                for k, v in changes.items():
                    self._audit("refused", "events", event_id, k, old.get(k), v, batch_id)
            else:
                new = old | changes
                rep = schema.validate_event(new)
                if not rep.ok:
                    raise StoreError(f"event {event_id!r}: {rep}")
                diff = {k: v for k, v in changes.items() if old.get(k) != v}
                if not diff:
                    return {}, version
                sets = ", ".join(f"{k} = ?" for k in diff)
                c.execute(f"UPDATE events SET {sets}, updated_utc = ?, version = version + 1 WHERE id = ?",
                          (*[_encode(schema.EVENT_FIELDS[k], v) for k, v in diff.items()], utc_now(), event_id))
                for k, v in diff.items():
                    self._audit("update", "events", event_id, k, old[k], v, batch_id)
                self._touch("events")
                return {k: old[k] for k in diff}, version + 1
        raise conflict

    def event_version(self, event_id: str) -> int | None:
        """The event's version (1 when added, one more after each update); None if unknown."""
        row = self._conn.execute("SELECT version FROM events WHERE id = ?", (event_id,)).fetchone()
        return None if row is None else int(row[0])

    def event_versions(self) -> dict[str, int]:
        """Every event's version, by id (an offline copy remembers them at pull time)."""
        return {r[0]: int(r[1]) for r in self._conn.execute("SELECT id, version FROM events")}

    def _last_change(self, event_id: str, fields: list[str] | None = None) -> tuple[str, str | None]:
        """Who changed the event (or one of ``fields``) last and when: the newest audit row
        that added or updated it, else the batch that wrote it."""
        sql = ("SELECT user, at_utc FROM audit WHERE table_name = 'events' AND record_id = ? "
               "AND action IN ('insert', 'update')")
        args: list = [event_id]
        if fields:
            sql += f" AND (field IS NULL OR field IN ({', '.join('?' * len(fields))}))"
            args += fields
        row = self._conn.execute(sql + " ORDER BY id DESC LIMIT 1", args).fetchone()
        if row is None:
            row = self._conn.execute(
                "SELECT b.user, COALESCE(e.updated_utc, b.created_utc) FROM events e "
                "JOIN batches b ON b.id = e.batch_id WHERE e.id = ?", (event_id,)).fetchone()
        return (row[0], row[1]) if row else ("someone", None)

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version`` on this connection: it changes when another
        connection (another process, or a worker's) commits to the store. Cheap to poll."""
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def delete_event(self, event_id: str, *, batch_id: int | None = None,
                     if_version: int | None = None) -> dict:
        """Delete an event with its missiles and statements; the audit keeps all of it.
        ``if_version``: refuse (:class:`VersionConflict`, audited) if the event is at another
        version (undoing an add must not delete what someone else changed since)."""
        with self.write() as c:
            old = self.get_event(event_id)
            if old is None:
                raise StoreError(f"no event with id {event_id!r}")
            version = self.event_version(event_id)
            if if_version is not None and version != if_version:
                user, at = self._last_change(event_id)
                conflict = VersionConflict(event_id, {}, {}, if_version, version, user, at)
                self._audit("refused", "events", event_id, None, None, None, batch_id)
            else:
                record = {"event": old, "missiles": self.missiles(event_id),
                          "statements": self.statements(event_id), "version": version}
                c.execute("DELETE FROM events WHERE id = ?", (event_id,))
                self._audit("delete", "events", event_id, None, record, None, batch_id)
                self._touch("events")
                return record
        raise conflict

    def restore_event(self, record: dict, batch_id: int | None = None) -> None:
        """Put back an event removed by :meth:`delete_event` (used by undo)."""
        with self.write():
            b = batch_id or self.new_batch("manual")
            missiles = [{k: v for k, v in m.items() if k in schema.MISSILE_FIELDS}
                        for m in record.get("missiles", [])]
            stmts = [{k: v for k, v in s.items() if k in schema.STATEMENT_FIELDS}
                     for s in record.get("statements", [])]
            self.insert_event(record["event"], b, missiles=missiles, statements=stmts)
            if record.get("version"):  # a version an editor may hold must not come back
                self._conn.execute("UPDATE events SET version = ? WHERE id = ?",
                                   (record["version"] + 1, record["event"]["id"]))

    def get_event(self, event_id: str) -> dict | None:
        row = self._conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
        return _decode_row(schema.EVENT_FIELDS, row) if row else None

    def event_origin(self, event_id: str) -> dict | None:
        """The batch that added an event: id, kind ('seed', 'import', 'manual'...), file
        name, sha256, created_utc, user and undone_utc; None for an unknown event. (An
        import records its events in one batch-level audit row, not one row each, so this
        is where an imported event's provenance is read.)"""
        row = self._conn.execute(
            "SELECT b.id, b.kind, b.file_name, b.sha256, b.created_utc, b.user, b.undone_utc "
            "FROM events e JOIN batches b ON b.id = e.batch_id WHERE e.id = ?", (event_id,)).fetchone()
        if row is None:
            return None
        return dict(zip(("batch_id", "kind", "file_name", "sha256", "created_utc", "user", "undone_utc"),
                        tuple(row)))

    def has_event(self, event_id: str) -> bool:
        return self._conn.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is not None

    def batch_event_ids(self, batch_id: int) -> list[str]:
        """Ids of the events batch ``batch_id`` added or changed that are in the store now."""
        rows = self._conn.execute(
            "SELECT id FROM events WHERE batch_id = ? UNION "
            "SELECT a.record_id FROM audit a JOIN events e ON e.id = a.record_id "
            "WHERE a.batch_id = ? AND a.table_name = 'events' AND a.action = 'update' ORDER BY 1",
            (batch_id, batch_id)).fetchall()
        return [r[0] for r in rows]

    def import_batch_ids(self) -> list[tuple[int, str]]:
        """(batch id, file name) of the imports still in effect, newest first."""
        rows = self._conn.execute("SELECT id, COALESCE(file_name, '') FROM batches WHERE kind = 'import' "
                                  "AND undone_utc IS NULL ORDER BY id DESC").fetchall()
        return [(int(r[0]), r[1]) for r in rows]

    def missiles(self, event_id: str) -> list[dict]:
        rows = self._conn.execute("SELECT * FROM missiles WHERE event_id = ? ORDER BY seq, id",
                                  (event_id,)).fetchall()
        return [_decode_row(schema.MISSILE_FIELDS, r) for r in rows]

    def statements(self, event_id: str) -> list[dict]:
        rows = self._conn.execute("SELECT * FROM statements WHERE event_id = ? ORDER BY actor, id",
                                  (event_id,)).fetchall()
        return [_decode_row(schema.STATEMENT_FIELDS, r) for r in rows]

    def events_frame(self, *, date_from: str | None = None, date_to: str | None = None,
                     classes: Iterable[str] | None = None) -> pd.DataFrame:
        """All events (optionally filtered) as a frame sorted by date and time.

        Columns: the schema's event fields (``sources`` as lists), plus ``missiles``, the
        number of per-missile rows behind each event.
        """
        where, args = _events_where(date_from, date_to, classes)
        cur = self._conn.cursor()
        cur.row_factory = None  # plain tuples: much faster than sqlite3.Row for bulk reads
        # The collector paused (as the importer does): loading allocates a tuple per row and a
        # list per row's sources, none of which can form a cycle, and its passes over them
        # cost more than the parsing itself.
        with gc_paused():
            rows = cur.execute(f"SELECT {', '.join(_EVENT_COLS)} FROM events e{where}", args).fetchall()
            order = _chronological_order(list(map(_DATE_OF, rows)), list(map(_TIME_OF, rows)),
                                         lambda: _RowIds(rows))
            # the sources parsed straight from the rows, not from a text column built to be replaced
            sources = _parse_sources(list(map(_SOURCES_OF, rows)))
            # the frame's columns inferred from the rows in one C pass per column (the constructor
            # skips from_records' second pass over object columns, which SQLite's types never need)
            df = pd.DataFrame(rows, columns=_EVENT_COLS).drop(columns="sources")
            del rows
            if order is not None:  # rows not stored in date order
                if not _reorder_in_place(df, order):  # storage not as expected: one take per column
                    df = df.take(order).reset_index(drop=True)
                # the lists in an object array of their own, put in order the same way
                sources = np.fromiter(sources, dtype=object, count=len(sources))
                _permute(sources, order)
                sources = pd.Series(sources, copy=False)  # inserted as it is, not copied in random order
            df.insert(_EVENT_COLS.index("sources"), "sources", sources)
            counts = dict(cur.execute("SELECT event_id, COUNT(*) FROM missiles GROUP BY event_id").fetchall())
            df["missiles"] = [counts.get(i, 0) for i in df["id"].tolist()] if counts else 0
            return _finish_events_frame(df, parsed_sources=True)

    def iter_event_columns(self, *, date_from: str | None = None, date_to: str | None = None,
                           classes: Iterable[str] | None = None,
                           chunk: int = 2000) -> Iterator[tuple[list[str], list[list]]]:
        """:meth:`events_frame`'s rows, at most ``chunk`` at a time, as ``(keys, columns)``:
        the frame's column names and, per column, the values :func:`frame_records` gives
        (same order, same values). Read from the store as they are needed, so memory stays
        flat however many events there are."""
        where, args = _events_where(date_from, date_to, classes)
        cur = self._conn.cursor()
        cur.row_factory = None
        # "+e.date": a sort of the scanned rows, faster than walking the date index and
        # looking up every row (the index still serves a WHERE on the date)
        cur.execute(f"SELECT {', '.join(_EVENT_COLS)}, "
                    "(SELECT COUNT(*) FROM missiles m WHERE m.event_id = e.id) "
                    f"FROM events e{where} ORDER BY +e.date, COALESCE(e.time_kst, ''), e.id", args)
        keys = [*_EVENT_COLS, "missiles"]
        while rows := cur.fetchmany(chunk):
            cols = [list(c) for c in zip(*rows)]
            del rows
            for i, conv in _RECORD_CONVERTERS:
                cols[i] = conv(cols[i])
            yield keys, cols

    def iter_event_records(self, *, date_from: str | None = None, date_to: str | None = None,
                           classes: Iterable[str] | None = None, chunk: int = 2000) -> Iterator[list[dict]]:
        """:meth:`iter_event_columns` as lists of records (dicts)."""
        for keys, cols in self.iter_event_columns(date_from=date_from, date_to=date_to,
                                                  classes=classes, chunk=chunk):
            yield [dict(zip(keys, r)) for r in zip(*cols)]

    def missiles_frame(self, event_ids: Iterable[str] | None = None) -> pd.DataFrame:
        sql = f"SELECT {', '.join(_MISSILE_COLS)} FROM missiles"
        args: list = []
        if event_ids is not None:
            ids = list(event_ids)
            self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS _ids(id TEXT PRIMARY KEY)")
            self._conn.execute("DELETE FROM _ids")
            self._conn.executemany("INSERT OR IGNORE INTO _ids VALUES (?)", [(i,) for i in ids])
            sql += " WHERE event_id IN (SELECT id FROM _ids)"
        sql += " ORDER BY event_id, seq, id"
        rows = self._conn.execute(sql, args).fetchall()
        return pd.DataFrame.from_records([tuple(r) for r in rows], columns=_MISSILE_COLS)

    def statements_frame(self) -> pd.DataFrame:
        rows = self._conn.execute(f"SELECT {', '.join(_STMT_COLS)} FROM statements ORDER BY event_id, actor").fetchall()
        return pd.DataFrame.from_records([tuple(r) for r in rows], columns=_STMT_COLS)

    def event_count(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    # ---------------------------------------------------------------- calendar
    def insert_calendar_entry(self, entry: dict, batch_id: int, *, audit: bool = True) -> None:
        full = {k: entry.get(k) for k in _CAL_COLS}
        full["sources"] = full["sources"] or []
        rep = schema.validate_calendar_entry(full)
        if not rep.ok:
            raise StoreError(f"calendar entry {entry.get('id')!r}: {rep}")
        with self.write() as c:
            c.execute(f"INSERT INTO calendar({', '.join(_CAL_COLS)}, batch_id) "
                      f"VALUES ({', '.join('?' * len(_CAL_COLS))}, ?)",
                      (*[_encode(schema.CALENDAR_FIELDS[n], full[n]) for n in _CAL_COLS], batch_id))
            if audit:
                self._audit("insert", "calendar", full["id"], None, None, full, batch_id)
            self._touch("calendar")

    def update_calendar_entry(self, entry_id: str, changes: dict, *, batch_id: int | None = None) -> dict:
        with self.write() as c:
            old = self.get_calendar_entry(entry_id)
            if old is None:
                raise StoreError(f"no calendar entry with id {entry_id!r}")
            new = old | changes
            rep = schema.validate_calendar_entry(new)
            if not rep.ok:
                raise StoreError(f"calendar entry {entry_id!r}: {rep}")
            diff = {k: v for k, v in changes.items() if old.get(k) != v}
            if diff:
                sets = ", ".join(f"{k} = ?" for k in diff)
                c.execute(f"UPDATE calendar SET {sets} WHERE id = ?",
                          (*[_encode(schema.CALENDAR_FIELDS[k], v) for k, v in diff.items()], entry_id))
                for k, v in diff.items():
                    self._audit("update", "calendar", entry_id, k, old[k], v, batch_id)
                self._touch("calendar")
            return {k: old[k] for k in diff}

    def delete_calendar_entry(self, entry_id: str, *, batch_id: int | None = None) -> dict:
        with self.write() as c:
            old = self.get_calendar_entry(entry_id)
            if old is None:
                raise StoreError(f"no calendar entry with id {entry_id!r}")
            c.execute("DELETE FROM calendar WHERE id = ?", (entry_id,))
            self._audit("delete", "calendar", entry_id, None, old, None, batch_id)
            self._touch("calendar")
            return old

    def get_calendar_entry(self, entry_id: str) -> dict | None:
        row = self._conn.execute("SELECT * FROM calendar WHERE id = ?", (entry_id,)).fetchone()
        return _decode_row(schema.CALENDAR_FIELDS, row) if row else None

    def calendar_frame(self) -> pd.DataFrame:
        rows = self._conn.execute(f"SELECT {', '.join(_CAL_COLS)} FROM calendar ORDER BY date, id").fetchall()
        df = pd.DataFrame.from_records([tuple(r) for r in rows], columns=_CAL_COLS)
        df["sources"] = [json.loads(s) if isinstance(s, str) and s else [] for s in df["sources"]]
        return df

    # ------------------------------------------------------------------- audit
    def audit_frame(self, record_id: str | None = None, batch_id: int | None = None) -> pd.DataFrame:
        sql, args = "SELECT * FROM audit", []
        conds = []
        if record_id is not None:
            conds.append("record_id = ?")
            args.append(record_id)
        if batch_id is not None:
            conds.append("batch_id = ?")
            args.append(batch_id)
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        sql += " ORDER BY id"
        rows = self._conn.execute(sql, args).fetchall()
        cols = ["id", "at_utc", "user", "action", "table_name", "record_id", "field",
                "old_value", "new_value", "batch_id"]
        df = pd.DataFrame.from_records([tuple(r) for r in rows], columns=cols)
        for c in ("old_value", "new_value"):
            df[c] = [json.loads(v) if isinstance(v, str) else None for v in df[c]]
        return df

    def batches_frame(self) -> pd.DataFrame:
        rows = self._conn.execute("SELECT * FROM batches ORDER BY id").fetchall()
        cols = ["id", "kind", "file_name", "sha256", "created_utc", "user", "added", "updated",
                "identical", "rejected", "undone_utc", "details"]
        return pd.DataFrame.from_records([tuple(r) for r in rows], columns=cols)

    # -------------------------------------------------------------------- named reads
    # Every query a caller needs has a name here: no SQL outside the store package.
    def last_observed_day(self) -> str | None:
        """The latest day-precision launch in the whole store: the end of the data's coverage."""
        row = self._conn.execute("SELECT MAX(date) FROM events "
                                 "WHERE COALESCE(date_precision, 'day') = 'day'").fetchone()
        return row[0] if row else None

    def last_import(self) -> tuple[str, str] | None:
        """(file name, created UTC) of the latest import batch, or None."""
        row = self._conn.execute("SELECT file_name, created_utc FROM batches WHERE kind = 'import' "
                                 "ORDER BY id DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else None

    def _event_columns(self, fields: Iterable[str]) -> list[str]:
        cols = list(fields)
        bad = [f for f in cols if f not in schema.EVENT_FIELDS]
        if bad:
            raise KeyError(bad[0])
        return cols

    def event_values(self, fields: Iterable[str], *, ordered: bool = False) -> Iterator[tuple]:
        """The stored values of ``fields`` (event field names) of every event, as rows.

        ``ordered``: in the events' date order (date, KST time, id), as :meth:`events_frame`.
        The values are as stored (JSON text for lists), not decoded.
        """
        sql = f"SELECT {', '.join(self._event_columns(fields))} FROM events"
        if ordered:
            sql += " ORDER BY date, time_kst, id"
        return iter(self._conn.execute(sql))

    def event_ids(self) -> set[str]:
        return {r[0] for r in self._conn.execute("SELECT id FROM events")}

    def event_match_keys(self) -> list[tuple]:
        """(id, date, launch_site, missile_class, missile_name, latitude, longitude) of every
        event: what an import matches on."""
        return self._conn.execute("SELECT id, date, launch_site, missile_class, missile_name, "
                                  "latitude, longitude FROM events").fetchall()

    def pack_rows(self, fields: Iterable[str]) -> Iterator[tuple]:
        """The rows for a pack, in date order: ``fields`` of every event, then whether it has
        no sources, the kind and file name of the batch that wrote it, and its updated time."""
        cols = self._event_columns(fields)
        return iter(self._conn.execute(
            f"SELECT {', '.join('e.' + f for f in cols)}, "
            "(e.sources IS NULL OR e.sources IN ('', '[]')) AS unsourced, b.kind, b.file_name, e.updated_utc "
            "FROM events e JOIN batches b ON b.id = e.batch_id ORDER BY e.date, e.time_kst, e.id"))

    def event_edit_times(self) -> dict[str, str]:
        """The latest change (UTC) to each event changed after it was added (an edit, or an
        import that updated it), from the audit; events never changed are left out."""
        return dict(self._conn.execute(
            "SELECT record_id, MAX(at_utc) FROM audit WHERE table_name = 'events' AND action = 'update' "
            "GROUP BY record_id"))

    def missile_counts(self) -> dict[str, int]:
        """Per-missile rows per event id (events without any are left out)."""
        return {eid: int(k) for eid, k in self._conn.execute(
            "SELECT event_id, COUNT(*) FROM missiles GROUP BY event_id")}

    # -------------------------------------------------------------------- batches and audit (undo)
    def batch_info(self, batch_id: int) -> tuple | None:
        """(kind, file_name, undone_utc, created_utc) of a batch, or None."""
        row = self._conn.execute("SELECT kind, file_name, undone_utc, created_utc FROM batches WHERE id = ?",
                                 (batch_id,)).fetchone()
        return tuple(row) if row is not None else None

    def batch_event_audit(self, batch_id: int) -> list[tuple]:
        """(audit id, action, record id, field, old value) of a batch's event rows, in order."""
        return self._conn.execute(
            "SELECT id, action, record_id, field, old_value FROM audit "
            "WHERE batch_id = ? AND table_name = 'events' ORDER BY id", (batch_id,)).fetchall()

    def last_audit_id(self, batch_id: int) -> int:
        """The id of a batch's last audit row (0 when it has none)."""
        return self._conn.execute("SELECT MAX(id) FROM audit WHERE batch_id = ?", (batch_id,)).fetchone()[0] or 0

    def event_audit_after(self, audit_id: int) -> list[tuple]:
        """(record id, user, at UTC, batch id) of every event audit row after ``audit_id``.

        All of them: the caller filters, since an IN list of 100k ids can pass SQLite's limit.
        """
        return self._conn.execute(
            "SELECT record_id, user, at_utc, batch_id FROM audit WHERE table_name = 'events' "
            "AND id > ? ORDER BY id", (audit_id,)).fetchall()

    def mark_batch_undone(self, batch_id: int) -> None:
        """Record that a batch was undone (inside :meth:`write`)."""
        self._conn.execute("UPDATE batches SET undone_utc = ? WHERE id = ?", (utc_now(), batch_id))

    def batch_states(self) -> list[tuple]:
        """(id, undone_utc, details JSON text) of every batch."""
        return self._conn.execute("SELECT id, undone_utc, details FROM batches").fetchall()

    def values_outside_rules(self, limit: int = 100) -> list[dict]:
        """Stored event values that break :mod:`nkbrief.model.rules` (only another program, or an
        older nkbrief, can have written them): ``{"id", "field", "value", "reason"}``."""
        return values_outside_rules(self._conn, limit, typed=self.engine != "sqlite")

    def _execute(self, sql: str, args: tuple | list = ()) -> sqlite3.Cursor:
        """Run raw SQL: for the store package and for tests only (callers use the named reads)."""
        return self._conn.execute(sql, args)

    # -------------------------------------------------------------------- seed
    def seed_from_resources(self, events_path: Path | None = None,
                            calendar_path: Path | None = None) -> int:
        """Load the bundled dataset and calendar in one transaction. Returns the batch id."""
        # Deferred (start-up): only a new store is seeded; the reader costs about 20 ms at every
        # start otherwise (median of 7 runs, 2026-12-07).
        from .dataset import load_bundled_calendar, load_bundled_events

        bundle = load_bundled_events(events_path or resource_path("events.json"))
        calendar = load_bundled_calendar(calendar_path or resource_path("calendar.csv"))
        with self.write():
            b = self.new_batch("seed", file_name="resources/events.json",
                               sha256=bundle["sha256"])
            missiles_by_event: dict[str, list[dict]] = {}
            for m in bundle["missiles"]:
                missiles_by_event.setdefault(m["event_id"], []).append(m)
            stmts_by_event: dict[str, list[dict]] = {}
            for s in bundle["statements"]:
                stmts_by_event.setdefault(s["event_id"], []).append(s)
            self.insert_events(bundle["events"], b, missiles=missiles_by_event, statements=stmts_by_event,
                               audit=False)
            for entry in calendar:
                self.insert_calendar_entry(entry, b, audit=False)
            self.finish_batch(b, added=len(bundle["events"]) + len(calendar))
        return b


def int_array(values) -> pd.api.extensions.ExtensionArray:
    """A column of whole numbers as pandas' nullable Int64. A store that already holds a
    value no rule allows (text, a fraction, a number past 64 bits, written by another
    program) still loads: such a value becomes missing here, and ``selfcheck`` and
    :meth:`Store.values_outside_rules` name it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return pd.array(values, dtype="Int64")
    except (TypeError, ValueError, OverflowError):
        pass
    out = []
    for v in values:
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and -2**63 <= v < 2**63:
            out.append(int(v))
        elif isinstance(v, (float, np.floating)) and v == v and float(v).is_integer() and abs(v) < 2**53:
            out.append(int(v))
        else:
            out.append(None)
    return pd.array(out, dtype="Int64")


def values_outside_rules(conn: sqlite3.Connection, limit: int = 100, *, typed: bool = False) -> list[dict]:
    """See :meth:`Store.values_outside_rules` (also used on a read-only connection).
    ``typed``: the columns' types are enforced by the database (PostgreSQL), so only the
    bounds and words are checked."""
    checks: list[tuple[str, rules.Rule, str, tuple]] = []
    for name, rule in rules.EVENT_RULES.items():
        if rule.kind in ("count", "km", "lat", "lon"):
            want = "('integer')" if rule.kind == "count" else "('integer', 'real')"
            where = f"typeof({name}) NOT IN {want} OR NOT ({name} BETWEEN ? AND ?)"
            if typed:
                where = f"NOT ({name} BETWEEN ? AND ?)"
            args: tuple = (rule.lo, rule.hi)
        elif rule.kind == "date":
            where = f"typeof({name}) != 'text' OR length({name}) != 10 OR NOT ({name} BETWEEN ? AND ?)"
            if typed:
                where = f"length({name}) != 10 OR NOT ({name} BETWEEN ? AND ?)"
            args = (rules.EARLIEST_DATE, rules.latest_date())
        elif rule.kind == "words":
            where = f"{name} NOT IN ({', '.join('?' * len(rule.words))})"
            args = rule.words
        else:
            continue
        checks.append((name, rule, f"({name} IS NOT NULL AND ({where}))", args))
    # One pass over the table says whether there is anything to name (nearly always not: only
    # another program writes such values), so `list` pays one scan, not one per field.
    any_bad = conn.execute("SELECT EXISTS (SELECT 1 FROM events WHERE " + " OR ".join(c[2] for c in checks) + ")",
                           [a for c in checks for a in c[3]]).fetchone()[0]
    out: list[dict] = []
    if not any_bad:
        return out
    for name, rule, cond, args in checks:
        rows = conn.execute(f"SELECT id, {name} FROM events WHERE {cond} ORDER BY id LIMIT ?",
                            (*args, limit - len(out))).fetchall()
        for ev_id, v in rows:
            out.append({"id": ev_id, "field": name, "value": v,
                        "reason": rules.check(rule, v) or "is not a value nkbrief writes"})
        if len(out) >= limit:
            break
    return out


def _events_where(date_from: str | None, date_to: str | None,
                  classes: Iterable[str] | None) -> tuple[str, list]:
    """The WHERE clause (with its leading space, or '') and arguments of an events query."""
    where, args = [], []
    if date_from:
        where.append("e.date >= ?")
        args.append(date_from)
    if date_to:
        where.append("e.date <= ?")
        args.append(date_to)
    if classes:
        cl = list(classes)
        where.append(f"e.missile_class IN ({', '.join('?' * len(cl))})")
        args.extend(cl)
    return (" WHERE " + " AND ".join(where) if where else ""), args


_DATE_OF = itemgetter(_EVENT_COLS.index("date"))
_TIME_OF = itemgetter(_EVENT_COLS.index("time_kst"))
_SOURCES_OF = itemgetter(_EVENT_COLS.index("sources"))


def _digit_keys(joined: str, n: int, width: int, digits: list[int]) -> np.ndarray | None:
    """``n`` values of ``width`` ASCII characters, concatenated in ``joined``, as the
    integers their ``digits`` positions spell (the other positions must hold the same
    character in every value), so that integer order is text order; blank values
    (all NUL) give -1. None when the values are not all of that shape."""
    if len(joined) != width * n or not joined.isascii():
        return None
    b = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(n, width)
    blank = b[:, 0] == 0
    real = b[~blank]
    if real.size == 0:
        return np.full(n, -1, dtype=np.int64)
    fixed = [i for i in range(width) if i not in digits]
    d = real[:, digits].astype(np.int64) - 48
    if (d < 0).any() or (d > 9).any() or not all((real[:, i] == real[0, i]).all() for i in fixed):
        return None
    out = np.full(n, -1, dtype=np.int64)
    out[~blank] = d @ (10 ** np.arange(len(digits) - 1, -1, -1, dtype=np.int64))
    return out


class _RowIds:
    """The ids of fetched event rows, by row position, read only for the rows asked for."""

    __slots__ = ("rows",)

    def __init__(self, rows: list[tuple]):
        self.rows = rows

    def __getitem__(self, i: int) -> str:
        return self.rows[i][0]


def _chronological_order(dates: list, times: list, ids: Callable[[], list]) -> np.ndarray | None:
    """The order of event rows by (date, time_kst with missing first, id), the order
    ``ORDER BY date, COALESCE(time_kst, ''), id`` gives, as an array of row positions;
    None when they are in it already. ``ids()`` gives the rows' ids by position (asked for
    only when two rows tie on date and time, and read only for those rows).

    Dates (YYYY-MM-DD) and times (HH:MM or blank) become one integer per row that sorts
    as the text does, sorted with numpy; rows that tie on both are then ordered by id, in
    Python (they are few). Text of any other shape is ranked by a sorted factorize.
    """
    n = len(dates)
    if n < 2:
        return None
    # blank times (None, ''), counted in C; any other false value sorts as '' as well
    blanks = n - len(list(filter(None, times)))
    key = None
    try:
        d_key = _digit_keys("".join(dates), n, 10, [0, 1, 2, 3, 5, 6, 8, 9])
        t_key = _digit_keys("".join([t or "\0\0\0\0\0" for t in times] if blanks else times), n, 5, [0, 1, 3, 4])
    except TypeError:  # not text throughout
        d_key = t_key = None
    if d_key is not None and t_key is not None and (d_key >= 0).all() and int((t_key < 0).sum()) == blanks:
        key = d_key * 10_000 + (t_key + 1)  # a blank time (-1) first, as '' sorts
    else:  # any other shape: rank the text as the frame's text compares
        d_codes = pd.factorize(np.asarray([str(d) for d in dates], dtype=object), sort=True)[0]
        t_codes, t_uniq = pd.factorize(np.asarray([str(t or "") for t in times], dtype=object), sort=True)
        key = d_codes.astype(np.int64) * max(len(t_uniq), 1) + t_codes
    if (key[1:] > key[:-1]).all():
        return None  # strictly increasing: in order already, and no ties
    # not a stable sort: rows that tie on the key are put in id order below
    order = np.argsort(key)
    k = key[order]
    tie = np.flatnonzero(k[1:] == k[:-1])
    if tie.size:
        ids = ids()
        # runs of equal keys, [start, end) in sorted position: ordered by id
        starts = tie[np.concatenate(([True], np.diff(tie) != 1))]
        ends = tie[np.concatenate((np.diff(tie) != 1, [True]))] + 2
        for a, b in zip(starts.tolist(), ends.tolist()):
            order[a:b] = sorted(order[a:b].tolist(), key=ids.__getitem__)
        if (order == np.arange(n)).all():
            return None
    return order


#: The column arrays that are one numpy array each (numbers, objects, pandas 3's "str"
#: with Python storage), which ``np.asarray`` gives without a copy.
_PLAIN_ARRAYS = (pd.arrays.NumpyExtensionArray, pd.arrays.StringArray)


def _column_storage(arr: object, n: int) -> tuple[np.ndarray, int] | None:
    """The array that holds a frame column's values and the axis its rows run along:
    ``(base, axis)`` when the column is ``base`` itself (1-D), one column of a row-major
    (n, k) ``base`` (axis 0), or one row of a (k, n) ``base`` (axis 1); None otherwise
    (a copy, an Arrow array, a view into something larger)."""
    if type(arr) not in _PLAIN_ARRAYS:
        return None  # e.g. a masked array (values and mask), Arrow text: not one numpy array
    a = np.asarray(arr)
    if a.ndim != 1 or len(a) != n or np.asarray(arr).__array_interface__["data"] != a.__array_interface__["data"]:
        return None  # not the column's own storage: np.asarray made a copy
    base = a if a.base is None else a.base
    if (not isinstance(base, np.ndarray) or not base.flags.owndata or not base.flags.c_contiguous
            or not base.flags.writeable):
        return None
    if base is a:
        return base, 0
    if base.ndim != 2:
        return None
    step = a.strides[0]
    offset = a.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if base.shape[0] == n and step == base.strides[0] and 0 <= offset < step:
        return base, 0  # a column of the (n, k) array
    if base.shape[1] == n and step == base.itemsize and offset % base.strides[0] == 0:
        return base, 1  # a row of the (k, n) array
    return None


class _Pointers:
    """An object array's memory seen as the integers it holds (its PyObject pointers),
    through numpy's array interface: moving them moves no object and changes no
    reference count (object arrays cannot be viewed as another dtype)."""

    def __init__(self, objects: np.ndarray):
        assert objects.dtype == object and objects.itemsize == np.dtype(np.intp).itemsize
        assert objects.flags.c_contiguous
        self.__array_interface__ = {"shape": objects.shape, "typestr": np.dtype(np.intp).str,
                                    "data": (objects.__array_interface__["data"][0], False), "version": 3}


def _reorder_in_place(df: pd.DataFrame, order: np.ndarray) -> bool:
    """Put the rows of ``df``, a frame just built from fetched rows that nothing else
    holds, in ``order`` (a permutation of its row positions), in place: afterwards it is
    ``df.take(order).reset_index(drop=True)``. False, with ``df`` untouched, when its
    columns are not held as :func:`_column_storage` expects.

    Why: the fetched values lie in memory in stored order, so a take of an object column
    touches each string in random memory order to count a reference (about 5 ms a text
    column at 100k rows, most of the loader's own time). Here the arrays' pointers move
    instead; a permutation leaves every object referenced as often as before. (pandas 3
    keeps the text columns as views of one (n, k) array: one gather moves them all.)
    """
    n = len(df)
    if not df.index.equals(pd.RangeIndex(n)):
        return False  # the labels stay in place; the take's result is numbered 0..n-1
    bases: dict[int, tuple[np.ndarray, int]] = {}
    for i in range(df.shape[1]):
        found = _column_storage(df.iloc[:, i].array, n)
        if found is None:
            return False
        bases.setdefault(id(found[0]), found)
    for base, axis in bases.values():
        _permute(base, order, axis)
    return True


def _permute(values: np.ndarray, order: np.ndarray, axis: int = 0) -> None:
    """``values[...] = np.take(values, order, axis)`` in place (C-contiguous ``values``),
    moving an object array's pointers rather than touching its objects (:class:`_Pointers`)."""
    view = np.asarray(_Pointers(values)) if values.dtype == object else values
    view[...] = np.take(view, order, axis=axis)


def _floats_or_none(values: list) -> list:
    if set(map(type, values)) <= {float, type(None)}:
        return values  # as SQLite returns a REAL column: nothing to convert
    # a value no rule allows (text, written by another program) stays as stored: shown, not lost
    return [float(v) if v.__class__ is float or v.__class__ is int else v for v in values]


_AS_BOOL = {None: None, 0: False, 1: True}


def _bools_or_none(values: list) -> list:
    if set(values) <= _AS_BOOL.keys():  # 0/1/NULL, as the store writes them
        return list(map(_AS_BOOL.__getitem__, values))
    return [None if v is None else bool(v) for v in values]


def _finish_events_frame(df: pd.DataFrame, parsed_sources: bool = False) -> pd.DataFrame:
    """Give a raw events frame its proper dtypes (shared by every loader); ``parsed_sources``:
    the ``sources`` column holds lists already (:func:`_parse_sources`)."""
    if not parsed_sources:
        df["sources"] = _parse_sources(df["sources"].tolist())
    given = int(df["count"].notna().sum())
    for c in ("count", "missiles"):
        df[c] = int_array(df[c])
    lost = given - int(df["count"].notna().sum())
    for c in ("distance_km", "distance_km_max", "apogee_km", "apogee_km_max", "latitude", "longitude"):
        if df[c].dtype.kind != "f":
            given = int(df[c].notna().sum())
            if not given:  # all blank (a field nobody filled in): nothing to convert
                df[c] = np.full(len(df), np.nan)
                continue
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
            lost += given - int(df[c].notna().sum())
    # values no rule allows, which the frame cannot hold, are missing here: callers say so
    df.attrs["unreadable_values"] = lost
    # A column mixing NULL and 0/1 arrives as floats with NaN for NULL: NaN is unknown, not True.
    led = df["leader_attended"].to_numpy()
    if led.dtype.kind in "fi":  # numbers (0/1, NaN for NULL), as the store writes them: in C
        missing = np.isnan(led) if led.dtype.kind == "f" else np.zeros(len(led), dtype=bool)
        known = (led != 0) & ~missing
    else:
        led = led.astype(object)
        missing = pd.isna(led)
        known = np.zeros(len(led), dtype=bool)
        known[~missing] = led[~missing].astype(bool)
    df["leader_attended"] = pd.arrays.BooleanArray(known, missing)
    return df


def _parse_sources(values: list) -> list:
    """Each stored JSON list of sources as a list ([] for a blank)."""
    if values:
        # one JSON parse for the whole column is several times faster than one per row;
        # it stands only when it gives exactly one list per row
        try:
            out = json.loads("[" + ",".join(values) + "]")
        except (TypeError, ValueError):
            out = None
        if out is not None and len(out) == len(values) and set(map(type, out)) == {list}:
            return out
    return [_source_list(v) for v in values]


def _source_list(v: object) -> list:
    """One stored sources value as a list; a value that is not a JSON list (written by
    another program) becomes an empty list instead of stopping the load."""
    try:
        x = json.loads(v) if isinstance(v, str) and v else []
    except ValueError:
        return []
    return x if isinstance(x, list) else []


#: Column converters from stored values to :func:`frame_records` values (by column index).
_RECORD_CONVERTERS = [
    *[(i, _floats_or_none) for i, n in enumerate(_EVENT_COLS) if schema.EVENT_FIELDS[n] in ("km", "lat", "lon")],
    (_EVENT_COLS.index("leader_attended"), _bools_or_none),
    (_EVENT_COLS.index("sources"), _parse_sources),
]


def frame_records(df: pd.DataFrame) -> list[dict]:
    """Rows of an events frame as plain dicts, with pandas' missing markers as None."""
    cols = list(df.columns)
    out = []
    for row in df.itertuples(index=False, name=None):
        rec = {}
        for c, v in zip(cols, row):
            if v is pd.NA or (isinstance(v, float) and v != v):
                v = None
            elif hasattr(v, "item") and not isinstance(v, (list, str)):
                v = v.item()
            rec[c] = v
        out.append(rec)
    return out


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
