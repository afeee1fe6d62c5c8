"""nkbrief/ must never import Qt: every module imports, and `list` runs, with PySide6 blocked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

BLOCKER = r"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6', 'ui'):
            raise ImportError('blocked for this test: ' + name)
sys.meta_path.insert(0, Block())
"""


def _run(code: str, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-c", BLOCKER + code, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_every_nkbrief_module_imports_without_qt():
    code = r"""
import pkgutil, importlib, nkbrief
names = [m.name for m in pkgutil.walk_packages(nkbrief.__path__, 'nkbrief.')]
for n in names:
    importlib.import_module(n)
print(len(names))
"""
    r = _run(code)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.strip()) >= 5


def test_list_runs_without_qt(tmp_path):
    db = tmp_path / "s.sqlite3"
    code = "import sys; from nkbrief.cli import main; sys.exit(main(sys.argv[1:]))"
    r = _run(code, "list", "--db", str(db), "--from", "2026-01-01", "--to", "2026-12-31", "--json")
    assert r.returncode == 0, r.stderr
    assert '"2026-01-27"' in r.stdout


def test_no_source_file_in_core_mentions_qt_imports():
    bad = []
    for p in (REPO / "nkbrief").rglob("*.py"):
        for line in p.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if s.startswith(("import ", "from ")) and any(
                    s.split()[1].split(".")[0] == q for q in ("PySide6", "pyqtgraph", "ui")):
                bad.append(f"{p.relative_to(REPO)}: {s}")
    assert not bad
