"""`nkbrief selfcheck`: the admin/bundle check reports XML safety and paths, and writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

BLOCK_DEFUSEDXML = r"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] == 'defusedxml':
            raise ImportError('blocked for this test: ' + name)
sys.meta_path.insert(0, Block())
"""


def _run(tmp_path, *args, env_extra=None, prelude=""):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NKBRIEF_", "OPENPYXL_"))}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "xdg"), **(env_extra or {}))
    code = prelude + "import sys; from nkbrief.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, "selfcheck", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_selfcheck_passes_and_reports_paths_without_creating_the_store(tmp_path):
    db = tmp_path / "sub" / "store.sqlite3"
    r = _run(tmp_path, "--json", env_extra={"NKBRIEF_DB": str(db)})
    assert r.returncode == 0, r.stdout + r.stderr
    info = json.loads(r.stdout)
    assert info["problems"] == []
    assert info["defusedxml"] == {"openpyxl_DEFUSEDXML": True, "entities_refused": True, "error": None,
                                  "cell_reader_refuses": True}
    assert info["store"] == {"path": str(db), "source": "NKBRIEF_DB", "exists": False, "values_outside_rules": []}
    assert Path(info["resources"]["path"]) == REPO / "resources"
    assert info["resources"]["missing"] == []
    assert info["frozen"] is False
    assert not db.parent.exists()  # read-only: nothing was created
    assert not (tmp_path / "xdg").exists()


def test_selfcheck_default_store_is_the_user_data_folder(tmp_path):
    r = _run(tmp_path, "--json")
    info = json.loads(r.stdout)
    if sys.platform.startswith("linux"):
        assert info["store"]["path"] == str(tmp_path / "xdg" / "nkbrief" / "nkbrief.sqlite3")
    assert info["store"]["source"] == "user-data folder"


def test_selfcheck_db_flag_wins(tmp_path):
    r = _run(tmp_path, "--json", "--db", str(tmp_path / "x.sqlite3"),
             env_extra={"NKBRIEF_DB": str(tmp_path / "env.sqlite3")})
    assert json.loads(r.stdout)["store"]["path"] == str(tmp_path / "x.sqlite3")


def test_selfcheck_fails_when_openpyxl_is_told_not_to_use_defusedxml(tmp_path):
    r = _run(tmp_path, env_extra={"OPENPYXL_DEFUSEDXML": "False"})
    assert r.returncode == 1
    assert "openpyxl does not use defusedxml" in r.stdout
    assert "OPENPYXL_DEFUSEDXML" in r.stdout
    assert r.stdout.rstrip().splitlines()[-1].startswith("  - ")
    assert "Traceback" not in r.stderr


def test_selfcheck_fails_when_defusedxml_is_missing(tmp_path):
    r = _run(tmp_path, "--json", prelude=BLOCK_DEFUSEDXML)
    assert r.returncode == 1, r.stdout
    info = json.loads(r.stdout)
    assert info["defusedxml"]["openpyxl_DEFUSEDXML"] is False
    assert any("does not use defusedxml" in p for p in info["problems"])


BLOCK_PSYCOPG = BLOCK_DEFUSEDXML.replace("'defusedxml'", "'psycopg'")


def test_selfcheck_reports_the_team_store_driver_and_its_libpq(tmp_path):
    import pytest

    psycopg = pytest.importorskip("psycopg")
    r = _run(tmp_path, "--json", "--db", str(tmp_path / "s.sqlite3"))
    assert r.returncode == 0, r.stdout + r.stderr
    pg = json.loads(r.stdout)["postgresql_client"]
    assert pg["error"] is None and pg["psycopg"] == psycopg.__version__
    assert pg["implementation"] == psycopg.pq.__impl__
    assert pg["libpq"].split(".")[0] == str(psycopg.pq.version() // 10000)
    r = _run(tmp_path, "--db", str(tmp_path / "s.sqlite3"))
    assert f"PostgreSQL client    psycopg {psycopg.__version__} (" in r.stdout


def test_selfcheck_without_psycopg_fails_only_in_the_bundle(tmp_path):
    r = _run(tmp_path, "--json", "--db", str(tmp_path / "s.sqlite3"), prelude=BLOCK_PSYCOPG)
    assert r.returncode == 0, r.stdout + r.stderr  # a source install on SQLite needs no driver
    assert json.loads(r.stdout)["postgresql_client"]["error"].startswith("psycopg cannot be imported")
    frozen = BLOCK_PSYCOPG + "sys.frozen = True\n"
    r = _run(tmp_path, "--json", "--db", str(tmp_path / "s.sqlite3"), prelude=frozen)
    assert r.returncode == 1
    assert any(p.startswith("team store driver: psycopg cannot be imported")
               for p in json.loads(r.stdout)["problems"])
