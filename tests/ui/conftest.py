"""UI test setup: offscreen Qt, settings in a temporary folder, and window fixtures."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything loads Qt

import pytest  # noqa: E402


SEED_EVENT = "2026-01-27-srbm-north-of-pyongyang"

#: The offscreen platform cannot resize or raise native windows; Qt says so as a warning on
#: every top-level show (and when a tooltip pops up). That is the platform's limitation, not
#: ours, so exactly these two messages must not fail UI tests; every other warning does.
OFFSCREEN_NOISE = r"^This plugin does not support (propagateSizeHints|raise)\(\)$"


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, qapp):
    """Every test gets its own QSettings folder: tests never read or write the user's settings."""
    from PySide6.QtCore import QSettings

    path = str(tmp_path / "settings")
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, path)
        QSettings.setPath(QSettings.Format.NativeFormat, scope, path)
    yield path


def _event(**kw) -> dict:
    from nkbrief.model import schema

    ev = schema.empty_event() | kw
    if ev["id"] is None:
        ev["id"] = schema.make_event_id(ev["date"], ev["missile_class"], ev.get("launch_site"))
    if ev.get("time_kst") and ev.get("date_precision", "day") == "day" and not ev.get("time_utc"):
        ev["time_utc"] = schema.kst_to_utc(ev["date"], ev["time_kst"])
    ev.setdefault("sources", ["https://example.invalid/source"])
    return ev


SMALL_EVENTS = [
    _event(date="1986-05-01", date_precision="month", missile_class="SRBM", missile_name="Scud-B",
           launch_site="Musudan-ri", latitude=40.85, longitude=129.67, count=1,
           description="Month-only test launch.", sources=["CNS database"]),
    _event(date="2016-06-22", time_kst="05:58", missile_class="IRBM", missile_name="Hwasong-10 (Musudan)",
           launch_site="Wonsan", latitude=39.17, longitude=127.48, count=2, distance_km=400.0,
           apogee_km=1413.6, outcome="success", sources=["a", "b"]),
    _event(date="2017-07-04", time_kst="09:40", missile_class="ICBM", missile_name="Hwasong-14",
           launch_site="Panghyon", latitude=40.0, longitude=125.2, count=1, distance_km=933.0,
           apogee_km=2802.0, outcome="success", leader_attended=True, notes="first ICBM"),
    _event(date="2017-11-29", time_kst="03:17", missile_class="ICBM", missile_name="Hwasong-15",
           launch_site="Pyongsong", latitude=39.25, longitude=125.87, count=1, distance_km=950.0,
           apogee_km=4475.0, outcome="success"),
    _event(date="2019-07-25", time_kst="05:34", missile_class="SRBM", missile_name="KN-23",
           launch_site="Hodo Peninsula", latitude=39.4, longitude=127.5, count=2, distance_km=600.0,
           distance_km_max=690.0, apogee_km=50.0),
    _event(date="2022-03-24", missile_class="ICBM", missile_name="Hwasong-17 / 화성-17",
           launch_site="Sunan", latitude=39.2, longitude=125.67, count=1, distance_km=1090.0,
           apogee_km=6248.0),
    _event(date="2023-08-24", missile_class="SLV", missile_name="Chollima-1", launch_site="Sohae",
           latitude=39.66, longitude=124.7, outcome="failure", confirmation="confirmed"),
    _event(date="2026-01-04", time_kst="07:50", missile_class="HGV", missile_name="Hwasong-11E",
           launch_site="Ryokpo", latitude=39.0, longitude=125.8, count=2, distance_km=900.0),
    _event(date="2026-01-27", time_kst="15:50", missile_class="SRBM", missile_name="SRBM",
           launch_site="North of Pyongyang", latitude=39.2, longitude=125.67, count=2,
           distance_km=350.0, apogee_km=80.0, landing_area="East Sea", confirmation="confirmed"),
    _event(date="2026-03-14", missile_class="unknown", launch_site=None, confirmation="unconfirmed",
           description="=HYPERLINK(\"x\") formula-looking description"),
]

SMALL_CALENDAR = [
    {"id": "congress-9", "date": "2026-02-19", "end_date": "2026-02-25", "category": "party_congress",
     "title": "9th Party Congress", "description": "", "sources": []},
    {"id": "summit-lee-xi", "date": "2026-01-05", "end_date": None, "category": "summit",
     "title": "Lee–Xi summit", "description": "", "sources": []},
    {"id": "fs-2026", "date": "2026-03-09", "end_date": "2026-03-19", "category": "exercise",
     "title": "Freedom Shield 2026", "description": "", "sources": []},
]


@pytest.fixture
def small_events():
    """The events in ``small_store`` (dicts, in insertion order)."""
    return [dict(e) for e in SMALL_EVENTS]


@pytest.fixture
def small_store(tmp_path):
    """A store with ten hand-made events and three calendar entries (no bundled data)."""
    from nkbrief.store import Store

    st = Store.open(tmp_path / "small.sqlite3", seed=False)
    b = fill_small(st)
    with st.write():
        st.add_statement({"event_id": SMALL_EVENTS[8]["id"], "actor": "Seoul",
                          "summary": "Called it a violation of UNSC resolutions.", "source": "Yonhap"}, b)
    yield st
    st.close()


def fill_small(st) -> int:
    """Put the small hand-made events and calendar entries in ``st``, in one batch (its id)."""
    b = st.new_batch("manual")
    with st.write():
        for ev in SMALL_EVENTS:
            st.insert_event(ev, b, audit=False)
        for c in SMALL_CALENDAR:
            st.insert_calendar_entry(c, b, audit=False)
    return b


@pytest.fixture
def warnings_shown(monkeypatch):
    """The texts of the warning dialogs the window showed (none is really shown)."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append(text))
    return shown


def _make_window(qtbot, store):
    from ui.app import MainWindow

    w = MainWindow(store, restore=True)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def window(qtbot, seeded_store):
    """The main window on the bundled dataset."""
    w = _make_window(qtbot, seeded_store)
    yield w
    w.close()


@pytest.fixture
def small_window(qtbot, small_store):
    """The main window on the small hand-made store."""
    w = _make_window(qtbot, small_store)
    yield w
    w.close()
