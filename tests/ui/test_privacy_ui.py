"""Private by default in the window: the settings file is 0600 in a 0700 folder under umask
022, and the pack dialog says when a pack will be written readable by its author alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.ui.conftest import fill_small

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



@pytest.fixture
def wide_own_store(tmp_path, monkeypatch) -> Path:
    """A store in nkbrief's own data folder that other users can read (as an older nkbrief or a
    copy left it): opening it tightens it, and the window says so once."""
    from nkbrief.store import Store

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from nkbrief import privacy

    path = privacy.user_folders()["data"] / "nkbrief.sqlite3"
    st = Store.open(path, seed=False)
    fill_small(st)
    st.close()
    os.chmod(path, 0o644)
    os.chmod(path.parent, 0o755)
    return path


def _status_bar_state(window) -> dict:
    return {"message": window.statusBar().currentMessage(), "counts": window.status_counts.isVisible(),
            "counts_text": window.status_counts.text()}


def test_made_private_message_hides_the_counts_under_it(umask022, qtbot, wide_own_store):
    """The first start after the store was tightened says so in the status bar, over the counts
    rather than on top of them: QStatusBar hides its labels for a message only when they are
    visible, so the message must come after the window is shown."""
    import argparse

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui import app as app_module

    seen: dict = {}

    def look():  # the first event-loop turn of run_gui's app.exec()
        w = next(x for x in QApplication.topLevelWidgets()
                 if isinstance(x, app_module.MainWindow) and x.isVisible())
        seen.update(_status_bar_state(w))
        w.close()
        QApplication.instance().quit()

    QTimer.singleShot(0, look)
    assert app_module.run_gui(argparse.Namespace(db=str(wide_own_store), screenshot=None, select=None)) == 0
    assert seen["message"].startswith("Made private: ") and str(wide_own_store) in seen["message"]
    assert seen["counts"] is False, "the event counts are drawn under the 'Made private' message"
    assert seen["counts_text"].startswith("10 of 10 events")  # kept up to date, shown after the message
    assert mode(wide_own_store) == 0o600


def test_made_private_message_in_a_screenshot(umask022, qtbot, wide_own_store, tmp_path, monkeypatch):
    """--screenshot renders the status bar the window shows: the message, not the counts
    drawn under it."""
    import argparse

    from ui import app as app_module

    seen: dict = {}
    render = app_module.render_screenshot

    def spy(window, *a, **k):
        out = render(window, *a, **k)
        seen.update(_status_bar_state(window))
        return out

    monkeypatch.setattr(app_module, "render_screenshot", spy)
    shot = tmp_path / "shot.png"
    assert app_module.run_gui(argparse.Namespace(db=str(wide_own_store), screenshot=str(shot), select=None)) == 0
    assert shot.exists()
    assert seen["message"].startswith("Made private: ") and str(wide_own_store) in seen["message"]
    assert seen["counts"] is False, "the event counts are drawn under the 'Made private' message"
