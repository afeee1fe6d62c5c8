"""Shared fixtures: the public data folder (skip when absent) and temporary stores."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("NKBRIEF_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, read as it is; tests that need it skip in a user's clone without it."""
    if not (SHARED_DATA / "SOURCES.md").exists():
        pytest.skip(f"public data folder {SHARED_DATA} is absent (only CI and developers have it)")
    return SHARED_DATA


#: The store engines a test module may run its store tests on: a module that sets
#: ``STORE_ENGINES = ENGINES`` runs every test using ``store_engine`` (and so ``empty_store``,
#: ``seeded_store``, ``store_target``) once per engine; other modules use SQLite only.
ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    if "store_engine" in metafunc.fixturenames:
        engines = getattr(metafunc.module, "STORE_ENGINES", None)
        if engines:
            metafunc.parametrize("store_engine", engines, indirect=True)


@pytest.fixture
def store_engine(request) -> str:
    """"sqlite" (the default), or the engine a module's STORE_ENGINES gives this run."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def store_target(request, store_engine, tmp_path):
    """A factory: ``store_target(seed=False)`` makes a new store on this test's engine and
    returns what ``Store.open`` takes (a file path, or a fresh database's URL on the test
    server, set up by init-server as a superuser)."""

    def make(seed: bool = False, name: str = "store") -> str:
        if store_engine == "sqlite":
            from nkbrief.store import Store

            path = tmp_path / f"{name}.sqlite3"
            if seed:
                shutil.copyfile(request.getfixturevalue("_seeded_template"), path)
            else:
                Store.open(path, seed=False).close()
            return str(path)
        server = request.getfixturevalue("pg_server")
        template = request.getfixturevalue("_pg_templates")[seed]
        name = f"nkb_test_{secrets.token_hex(6)}"
        with server.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        request.addfinalizer(lambda: server.drop_database(name))
        return server.url_for(name)

    return make


@pytest.fixture(scope="session")
def _pg_templates(pg_server):
    """Two databases set up once per session by init-server, empty and seeded, that each
    test's database is copied from (CREATE DATABASE ... TEMPLATE: about 0.1 s)."""
    from nkbrief.store.admin import init_server

    names = {}
    for seed in (False, True):
        url = pg_server.create_database(prefix="nkb_template")
        init_server(url, seed=seed)
        names[seed] = url.rsplit("/", 1)[1].split("?")[0]
    yield names
    for name in names.values():
        pg_server.drop_database(name)


@pytest.fixture
def colleague(store_engine, request):
    """(open(target) -> the server as another analyst, their name): on PostgreSQL a login of
    its own (the audit records the database user), on a file a store whose user is set."""
    from nkbrief.store import Store

    if store_engine == "sqlite":
        def open_file(target):
            st = Store.open(target, seed=False)
            st.user = "colleague"
            return st
        return open_file, "colleague"
    role = request.getfixturevalue("pg_role")(member_of=("nkbrief_editor",))
    return (lambda target: Store.open(role.url(target))), role.name


@pytest.fixture
def empty_store(store_target):
    from nkbrief.store import Store

    st = Store.open(store_target(seed=False, name="empty"), seed=False)
    yield st
    st.close()


@pytest.fixture(scope="session")
def _seeded_template(tmp_path_factory):
    from nkbrief.store import Store

    path = tmp_path_factory.mktemp("seed") / "seeded.sqlite3"
    Store.open(path).close()
    return path


@pytest.fixture
def seeded_store(store_target):
    """A store seeded from the bundled dataset (copied from one built per session)."""
    from nkbrief.store import Store

    st = Store.open(store_target(seed=True, name="seeded"))
    yield st
    st.close()


@pytest.fixture(autouse=True, scope="session")
def _site_settings(tmp_path_factory):
    """The tests run as a site whose administrator set UNCLASSIFIED as the pack marking
    (nkbrief.privacy); without a site default a pack needs an explicit marking, which
    tests/core/test_briefing_print.py checks by pointing NKBRIEF_SITE_CONFIG elsewhere. The
    variable is set in os.environ so commands run in a subprocess see it too."""
    path = tmp_path_factory.mktemp("site") / "site.ini"
    path.write_text("[pack]\nclassification = UNCLASSIFIED\n", encoding="utf-8")
    old = os.environ.get("NKBRIEF_SITE_CONFIG")
    os.environ["NKBRIEF_SITE_CONFIG"] = str(path)
    yield path
    if old is None:
        os.environ.pop("NKBRIEF_SITE_CONFIG", None)
    else:
        os.environ["NKBRIEF_SITE_CONFIG"] = old


# -- PostgreSQL test servers (tests/pgtest.py; scripts/pg_test_server.sh) -------------------


def _no_server(exc) -> None:
    """Skip with the reason, or fail where the server is required (CI, a broken script)."""
    if exc.must_fail:
        pytest.fail(f"{exc} (CI must run the PostgreSQL tests)" if os.environ.get("CI") else str(exc),
                    pytrace=False)
    pytest.skip(str(exc))


@pytest.fixture(scope="session")
def pg_server():
    """The run's PostgreSQL server (pgtest.PgServer: .url is the superuser's URL to the
    maintenance database; .host, .port, .stop(), .start(), .restart(), .kill()). It is the
    server of $NKBRIEF_TEST_PG (scripts/run_tests.sh starts one), else one started for this
    session and removed at its end. A test that stops it must start it again: prefer
    pg_private_server for that."""
    import pgtest

    try:
        server, ours = pgtest.session_server()
    except pgtest.NoServer as exc:
        _no_server(exc)
    yield server
    if ours:
        server.destroy()


@pytest.fixture
def pg_url(pg_server):
    """A fresh empty database on the run's server (dropped after the test): its superuser URL."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture
def pg_private_server():
    """A throwaway server of this test's own (about 2 s to start), which it may stop, kill
    and restart freely; removed after the test."""
    import pgtest

    try:
        server = pgtest.start_server()
    except pgtest.NoServer as exc:
        _no_server(exc)
    yield server
    server.destroy()


@pytest.fixture
def pg_role(pg_server):
    """Makes login roles for authentication and rights tests, dropped after the test:
    pg_role() is a login with a random password and no rights; pg_role(password=None) has
    no password; pg_role(member_of=("nkbrief_reader",)) is granted a group; pg_role(server=
    pg_private_server) makes it on another server. role.url(db_url) logs in as it."""
    made = []

    def make(*, server=None, **kwargs):
        server = server or pg_server
        role = server.create_role(**kwargs)
        made.append((server, role.name))
        return role

    yield make
    for server, name in reversed(made):
        if server is not pg_server and not server.is_up():
            continue  # a private server already gone: its roles went with it
        with server.connect() as conn:
            dbs = [r[0] for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datallowconn AND datname NOT IN "
                "('template0', 'template1', 'postgres')")]
        server.drop_role(name, tuple(dbs))
