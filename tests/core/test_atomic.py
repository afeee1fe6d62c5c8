"""nkbrief.atomic: files written atomically get normal permissions, like any saved file."""

from __future__ import annotations

import os
import stat
import sys

import pandas as pd
import pytest
from briefing_helpers import small_store

from nkbrief import atomic, write_guard
from nkbrief.model import schema
from nkbrief.briefing.pack import PackOptions, build_pack
from nkbrief.jobs.calendar_io import export_calendar_csv
from nkbrief.exporting.export import export_dataset

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


@pytest.fixture
def umask():
    """Set the process umask for one test (restored after)."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda m: os.umask(m)
    os.umask(old)


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


@posix_only
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_new_file_gets_0666_less_the_umask(tmp_path, umask, mask):
    umask(mask)
    out = atomic.atomic_write(tmp_path / "a.txt", lambda t: t.write_text("hello"))
    assert out.read_text() == "hello"
    assert _mode(out) == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


@posix_only
def test_replacing_keeps_the_existing_files_permissions(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "a.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic.atomic_write(target, lambda t: t.write_text("new"))
    assert target.read_text() == "new" and _mode(target) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")

    def half(tmp):
        tmp.write_text("half")
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        atomic.atomic_write(target, half)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_temp_file_is_hidden_beside_the_destination(tmp_path):
    tmp = atomic.create_temp(tmp_path / "pack.xlsx", ".nkbrief-partial")
    try:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".pack.xlsx.") and tmp.name.endswith(".nkbrief-partial")
        assert tmp.stat().st_size == 0
        assert atomic.create_temp(tmp_path / "pack.xlsx", ".nkbrief-partial") != tmp  # a fresh name
    finally:
        for p in tmp_path.iterdir():
            p.unlink()


def test_missing_folder_is_refused_by_the_write_guard(tmp_path):
    with pytest.raises(write_guard.WriteRefused, match="the folder .* does not exist"):
        atomic.create_temp(tmp_path / "nowhere" / "a.txt")


@posix_only
def test_pack_export_and_calendar_get_normal_permissions(tmp_path, umask):
    """The three writers of user files share the helper: none leaves a private 0600 file."""
    umask(0o022)
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    pack = build_pack(st, ids, PackOptions(output=tmp_path / "pack.xlsx", sections=["event_log"]))
    assert _mode(pack) == 0o644
    for suffix in (".csv", ".xlsx", ".json"):
        res = export_dataset(st, tmp_path / f"data{suffix}")
        assert _mode(res.path) == 0o644, suffix
    cal = export_calendar_csv(pd.DataFrame(columns=list(schema.CALENDAR_FIELDS)), tmp_path / "cal.csv")
    assert _mode(cal) == 0o644
    # rebuilding over a pack someone made group-writable keeps that
    os.chmod(pack, 0o664)
    build_pack(st, ids, PackOptions(output=pack, sections=["event_log"]))
    assert _mode(pack) == 0o664
    st.close()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
