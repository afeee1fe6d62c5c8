"""The crash log (issue 13, 19): private folder and files, full tracebacks, selfcheck names it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nkbrief import crashlog

MAIN = str(Path(__file__).resolve().parents[2] / "main.py")


@pytest.fixture
def state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_STATE_HOME places the log on Linux only")
def test_log_goes_to_the_user_log_folder_private(state_home):
    old = os.umask(0o022)
    try:
        try:
            raise RuntimeError("probe from the crash-log test")
        except RuntimeError as e:
            path = crashlog.log_exception(type(e), e, e.__traceback__, "testing")
    finally:
        os.umask(old)
    assert path == state_home / "nkbrief" / "log" / "nkbrief.log" == crashlog.log_path()
    text = path.read_text(encoding="utf-8")
    assert "ERROR unexpected error while testing" in text
    assert "Traceback (most recent call last)" in text and "RuntimeError: probe from the crash-log test" in text
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_unwritable_log_folder_gives_none_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(crashlog, "log_dir", lambda: blocker / "log")  # a folder under a file
    try:
        raise ValueError("x")
    except ValueError as e:
        assert crashlog.log_exception(type(e), e, e.__traceback__) is None


def test_describe_is_one_line():
    assert crashlog.describe(ValueError("first line\nsecond")) == "ValueError: first line"
    assert crashlog.describe(KeyError()) == "KeyError"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_STATE_HOME places the log on Linux only")
def test_selfcheck_prints_the_crash_log_path(state_home, tmp_path):
    env = os.environ | {"XDG_STATE_HOME": str(state_home)}
    want = state_home / "nkbrief" / "log" / "nkbrief.log"
    r = subprocess.run([sys.executable, MAIN, "selfcheck", "--db", str(tmp_path / "s.sqlite3")],
                       capture_output=True, text=True, env=env, timeout=120)
    line = next(x for x in r.stdout.splitlines() if x.strip().startswith("crash log"))
    assert line.split()[2] == str(want) and line.endswith("[created on the first error]")
    r = subprocess.run([sys.executable, MAIN, "selfcheck", "--json", "--db", str(tmp_path / "s.sqlite3")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert json.loads(r.stdout)["crash_log"] == {"path": str(want), "exists": False}
    assert not want.parent.exists()  # selfcheck only reads


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_an_existing_wider_log_and_folder_are_tightened(tmp_path, monkeypatch):
    d = tmp_path / "log"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    (d / "nkbrief.log").write_text("old entry\n")
    os.chmod(d / "nkbrief.log", 0o644)
    monkeypatch.setattr(crashlog, "log_dir", lambda: d)
    try:
        raise ValueError("x")
    except ValueError as e:
        assert crashlog.log_exception(type(e), e, e.__traceback__) == d / "nkbrief.log"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE((d / "nkbrief.log").stat().st_mode) == 0o600
    assert (d / "nkbrief.log").read_text().startswith("old entry\n")
