"""Private by default in the window: the settings file is 0600 in a 0700 folder under umask
022, and the pack dialog says when a pack will be written readable by its author alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix",
                                reason="POSIX mode bits; on Windows the profile folders' ACLs decide")


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_settings_written_by_qt_stay_private(umask022, _private_settings):
    from ui import style

    s = style.settings()
    s.setValue("window/test", "recent folder /home/analyst/secret-project")
    s.sync()
    ini = Path(s.fileName())
    assert ini.is_relative_to(_private_settings)
    assert mode(ini) == 0o600 and mode(ini.parent) == 0o700
    # Qt rewrites the file through a save file on every sync: the mode must survive that.
    s.setValue("window/test", "another value")
    s.sync()
    assert mode(ini) == 0o600
    assert style.settings_privacy_notes() == []


def test_wide_settings_file_is_tightened_and_told_once(umask022, _private_settings):
    from ui import style

    from PySide6.QtCore import QSettings

    probe = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      style.ORGANIZATION, style.APPLICATION)
    ini = Path(probe.fileName())
    ini.parent.mkdir(parents=True)
    ini.write_text("[window]\ntest=1\n")
    os.chmod(ini, 0o644)
    os.chmod(ini.parent, 0o755)
    style.settings()
    notes = style.settings_privacy_notes()
    assert f"file {ini} was readable by other users (0644); now 0600" in notes
    assert f"folder {ini.parent} was readable by other users (0755); now 0700" in notes
    assert style.settings_privacy_notes() == []  # told once
    assert mode(ini) == 0o600


def test_pack_dialog_says_a_marked_pack_is_private(qtbot, small_store, small_events):
    from ui.pack_dialog import PackDialog

    dlg = PackDialog(small_store, [e["id"] for e in small_events[:2]])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.set_classification("UNCLASSIFIED")
    assert not dlg.private_note.isVisible()
    dlg.set_classification("SECRET//NOFORN")
    assert dlg.private_note.isVisible()
    assert "readable by you alone (mode 0600)" in dlg.private_note.text()
    dlg.set_classification("UNCLASSIFIED//FOR OFFICIAL USE ONLY")
    assert not dlg.private_note.isVisible()
