"""Setting up a team store on a PostgreSQL server (``nkbrief admin init-server``)."""

from __future__ import annotations

from . import SCHEMA_VERSION, Store, StoreError, server_migrations
from . import pg


def init_server(target: str, *, seed: bool = False, upto: int = SCHEMA_VERSION) -> list[str]:
    """Set up (or check) the team store at ``target``: the schema, the roles nkbrief_editor and
    nkbrief_reader with their grants, the audit and change triggers; with ``seed``, the
    bundled dataset into a store that holds no event yet. Returns what was done ([] when
    everything was there already: running it twice changes nothing). A database holding
    other tables is refused, naming one, and nothing is changed. All of it is one
    transaction. ``upto``: the schema to build (tests make an older store with it)."""
    conn = pg.connect(target)
    done: list[str] = []
    try:
        where = conn.where
        foreign = pg.foreign_tables(pg.tables(conn))
        if foreign:
            raise StoreError(f"{where} holds other tables (e.g. {foreign[0]!r}); init-server sets up only an "
                             "empty database or an nkbrief one, and changed nothing")
        conn.execute("BEGIN IMMEDIATE")
        try:
            if "nkbrief_meta" not in pg.tables(conn):
                conn.script(pg.META_DDL)
                conn.execute("INSERT INTO nkbrief_meta VALUES ('application', ?), ('schema_version', '0')",
                             (pg.APPLICATION,))
            version = pg.check_store(conn, SCHEMA_VERSION)
            if version < upto:
                steps = server_migrations(pg)
                for v in range(version, upto):
                    steps[v](conn)
                conn.execute("UPDATE nkbrief_meta SET value = ? WHERE key = 'schema_version'", (str(upto),))
                done.append(f"upgraded the tables from schema {version} to {upto}" if version
                            else f"created the tables (schema {upto})")
            done += pg.ensure_server_parts(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    if seed:
        with Store.open(target) as st:
            if not st.event_count():
                st.seed_from_resources()
                done.append(f"seeded {st.event_count()} bundled events")
    return done
