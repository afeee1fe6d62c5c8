"""Private by default: with the usual umask 022, nkbrief's own folders are 0700 and its files
0600; a store the analyst chose elsewhere is left as it is but reported; exports follow the
umask except a pack marked above UNCLASSIFIED. POSIX only."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from nkbrief import cli, privacy
from nkbrief.briefing.pack import PackOptions, build_pack
from nkbrief.store import Store

from briefing_helpers import small_store

pytestmark = pytest.mark.skipif(os.name != "posix",
                                reason="POSIX mode bits; on Windows the profile folders' ACLs decide")


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """User folders under tmp_path, no NKBRIEF_DB, and the usual desktop umask 022."""
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        d = tmp_path / var.lower()
        d.mkdir(mode=0o755)
        os.chmod(d, 0o755)
        monkeypatch.setenv(var, str(d))
    monkeypatch.delenv("NKBRIEF_DB", raising=False)
    old = os.umask(0o022)
    yield tmp_path
    os.umask(old)


def own_store_path(home: Path) -> Path:
    return home / "xdg_data_home" / "nkbrief" / "nkbrief.sqlite3"


def test_fresh_store_and_its_folder_are_private(home):
    st = Store.open(None, seed=False)
    try:
        assert st.path == own_store_path(home)
        assert mode(st.path) == 0o600
        assert mode(st.path.parent) == 0o700
        assert st.privacy_notes == []  # nothing was wider: nothing to tell
        with st.write():
            st.insert_event({"id": "2026-01-27-srbm-x", "date": "2026-01-27", "missile_class": "SRBM",
                             "date_precision": "day"}, st.new_batch("manual"))
            journal = Path(str(st.path) + "-journal")
            assert journal.exists(), "the rollback journal exists while a write is open"
            assert mode(journal) == 0o600
    finally:
        st.close()
    # The parent we did not create keeps its mode.
    assert mode(home / "xdg_data_home") == 0o755


def test_existing_wide_store_is_tightened_and_said_once(home, capsys):
    Store.open(None, seed=False).close()
    p = own_store_path(home)
    os.chmod(p, 0o644)
    os.chmod(p.parent, 0o755)
    assert cli.main(["list", "--json"]) == 0
    err = capsys.readouterr().err
    assert f"note: folder {p.parent} was readable by other users (0755); now 0700" in err
    assert f"note: file {p} was readable by other users (0644); now 0600" in err
    assert mode(p) == 0o600 and mode(p.parent) == 0o700
    assert cli.main(["list", "--json"]) == 0
    assert "note:" not in capsys.readouterr().err  # told once


def test_chosen_store_in_shared_folder_is_left_alone_but_reported(home, capsys):
    shared = home / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    db = shared / "team.sqlite3"
    Store.open(db, seed=False).close()
    assert mode(db) == 0o600  # nkbrief created it: private
    os.chmod(db, 0o644)  # the analyst widened it on purpose
    st = Store.open(db, seed=False)
    assert st.privacy_notes == []
    st.close()
    assert mode(db) == 0o644 and mode(shared) == 0o755  # left as chosen
    code = cli.main(["selfcheck", "--db", str(db)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"the store file {db} is readable by other users (mode 0644)" in out
    assert f"warning: the store's folder {shared} is open to other users (mode 0755)" in out
    assert mode(db) == 0o644  # selfcheck reports, never changes a chosen store


def test_selfcheck_lists_each_path_with_mode_and_owner(home, capsys):
    Store.open(None, seed=False).close()
    import json
    import pwd

    assert cli.main(["selfcheck", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    kinds = {d["kind"]: d for d in info["paths"]}
    assert {"store", "store folder", "data folder", "config folder", "cache folder", "log folder",
            "settings"} <= set(kinds)
    me = pwd.getpwuid(os.getuid()).pw_name
    assert kinds["store"]["mode"] == "0600" and kinds["store"]["owner"] == me
    assert kinds["data folder"]["mode"] == "0700"
    assert kinds["cache folder"]["exists"] is False and kinds["cache folder"]["mode"] is None


def test_selfcheck_tightens_own_folders_and_fails_on_readable_store(home, capsys):
    Store.open(None, seed=False).close()
    cfg = home / "xdg_config_home" / "nkbrief"
    cfg.mkdir(mode=0o755)
    os.chmod(cfg, 0o755)
    assert cli.main(["selfcheck"]) == 0
    out = capsys.readouterr().out
    assert f"tightened: folder {cfg} was readable by other users (0755); now 0700" in out
    assert mode(cfg) == 0o700
    assert cli.main(["selfcheck"]) == 0
    assert "tightened:" not in capsys.readouterr().out  # said once


def test_settings_file_and_folder(home):
    ini = privacy.settings_file()
    assert ini == home / "xdg_config_home" / "nkbrief" / "nkbrief.ini"
    assert privacy.secure_settings_file(ini) == []
    assert mode(ini) == 0o600 and mode(ini.parent) == 0o700
    os.chmod(ini, 0o644)
    notes = privacy.secure_settings_file(ini)
    assert notes == [f"file {ini} was readable by other users (0644); now 0600"]
    assert mode(ini) == 0o600


def test_make_private_dir_creates_every_missing_level_0700(home):
    target = home / "a" / "b" / "c"
    assert privacy.make_private_dir(target) == []
    for p in (home / "a", home / "a" / "b", target):
        assert mode(p) == 0o700


def test_secret_pack_is_0600_unclassified_follows_umask(home, tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    try:
        ids = list(st.events_frame()["id"])[:2]
        out = tmp_path / "out"
        out.mkdir()
        plain = build_pack(st, ids, PackOptions(output=out / "u.xlsx", classification="UNCLASSIFIED"))
        assert mode(plain) == 0o644
        secret = build_pack(st, ids, PackOptions(output=out / "s.xlsx", classification="SECRET//NOFORN"))
        assert mode(secret) == 0o600
        # Rebuilding a wider existing file with a higher marking makes it private too.
        again = build_pack(st, ids, PackOptions(output=out / "u.xlsx", classification="TOP SECRET"))
        assert mode(again) == 0o600
        # Text that names no known marking is kept private: when in doubt, owner only.
        other = build_pack(st, ids, PackOptions(output=out / "o.xlsx", classification="RESTREINT UE"))
        assert mode(other) == 0o600
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no partials left
    finally:
        st.close()


def test_private_marking_levels():
    assert privacy.private_marking("UNCLASSIFIED") is False
    for level in ("CUI", "CONFIDENTIAL", "SECRET", "TOP SECRET", None):
        assert privacy.private_marking(level) is True


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG layout is Linux's")
def test_user_folders_follow_xdg(home):
    f = privacy.user_folders()
    assert f["data"] == home / "xdg_data_home" / "nkbrief"
    assert f["config"] == home / "xdg_config_home" / "nkbrief"
    assert f["cache"] == home / "xdg_cache_home" / "nkbrief"
    assert f["log"] == home / "xdg_state_home" / "nkbrief" / "log"


def test_crash_log_folder_and_files_are_private(home):
    from nkbrief import crashlog

    try:
        raise ValueError("a bug")
    except ValueError as e:
        path = crashlog.log_exception(type(e), e, e.__traceback__, "testing modes")
    assert path == home / "xdg_state_home" / "nkbrief" / "log" / crashlog.LOG_NAME
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert "ValueError: a bug" in path.read_text(encoding="utf-8")


def test_temporary_files_are_private_and_the_cache_folder_too(home):
    from nkbrief import private_tmp

    tmp = private_tmp.new_file(".xml")
    try:
        assert tmp.parent == home / "xdg_cache_home" / "nkbrief" / "tmp"
        assert mode(tmp) == 0o600
        assert mode(tmp.parent) == 0o700 and mode(tmp.parent.parent) == 0o700
    finally:
        tmp.unlink()


def test_partial_export_file_is_private_until_committed(home, tmp_path):
    from nkbrief import atomic

    dest = tmp_path / "out.csv"
    seen = []

    def write(t):
        seen.append(mode(t))
        t.write_text("a,b\n", encoding="utf-8")
    atomic.atomic_write(dest, write)
    assert seen == [0o600]  # while written: the analyst's alone
    assert mode(dest) == 0o644  # an export follows the umask once it is complete
