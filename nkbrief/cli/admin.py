"""admin: set up a team store on a PostgreSQL server.

``nkbrief admin init-server URL [--seed]`` creates the tables, the roles nkbrief_editor and
nkbrief_reader with their rights, and the triggers that stamp every audit row with the
database user and tell listening windows of a change. Run it as the database's owner. It
is idempotent (a second run changes nothing and says so) and refuses a database that
holds other tables. The password comes from libpq (.pgpass, a service file or
PGPASSWORD), never from the command line. See docs/team_store.md.
"""

from __future__ import annotations

import sys

# Deferred (start-up): the project modules a command needs are imported inside it (see
# COMMAND_MODULES in nkbrief/cli/__init__.py for the measurement).
from ..cli import CliError


def cmd_init_server(args) -> int:
    from ..store import is_server_target

    if not is_server_target(args.url):
        raise CliError(f"init-server: {args.url!r} is not a PostgreSQL address "
                       "(postgresql://HOST/DB, postgres://… or service=NAME)", 2)
    # Deferred (start-up): psycopg comes with the server module (about 0.19 s, see nkbrief/store).
    from ..store.admin import init_server

    done = init_server(args.url, seed=args.seed)
    if not done:
        sys.stdout.write("the team store is already set up; nothing changed\n")
    for line in done:
        sys.stdout.write(f"{line}\n")
    return 0


def register(sub) -> None:
    p = sub.add_parser("admin", help="set up a team store on a PostgreSQL server")
    asub = p.add_subparsers(dest="admin_command", metavar="ADMIN_COMMAND", required=True,
                            parser_class=type(p))
    q = asub.add_parser("init-server", help="create (or check) the tables, roles and audit of a team store")
    q.add_argument("url", metavar="URL", help="postgresql://HOST[:PORT]/DB (no password: libpq's .pgpass, "
                   "a service file or PGPASSWORD give it), or service=NAME")
    q.add_argument("--seed", action="store_true", help="load the bundled dataset into a store without events")
    q.set_defaults(func=cmd_init_server)
