"""The detail pane shows the catalogue profile of the system a launch names."""

from __future__ import annotations


def _id(store, date):
    return store._execute("SELECT id FROM events WHERE date = ?", (date,)).fetchone()[0]


def test_system_profile_in_the_launch_tab(qtbot, small_window, small_store):
    w = small_window
    ev_id = _id(small_store, "2022-03-24")  # 'Hwasong-17 / 화성-17': one system under two names
    w.detail.show_ids([ev_id])
    text = w.detail.launch.toPlainText()
    assert "System: Hwasong-17" in text and text.count("System:") == 1
    assert "KN-28" in text and "intercontinental" in text
    assert "1 launch; first 2022-03-24, latest 2022-03-24" in text
    assert "Longest flight\n1,090 km" in text
    assert "CSIS Missile Defense Project" in text


def test_profile_counts_every_name_of_the_system(qtbot, small_window, small_store):
    from nkbrief.model import schema

    w = small_window
    b = small_store.new_batch("manual")
    small_store.insert_event(schema.empty_event() | {"id": "x-kn23", "date": "2024-01-01", "missile_class": "SRBM",
                                                     "missile_name": "화성-11가"}, b)
    small_store.notify("events")  # as an import does: every view reloads
    qtbot.waitUntil(lambda: "x-kn23" in set(w.detail.frame["id"]), timeout=10000)
    w.detail.show_ids(["x-kn23"])
    text = w.detail.launch.toPlainText()
    assert "System: Hwasong-11A (KN-23)" in text
    assert "2 launches; first 2019-07-25, latest 2024-01-01" in text


def test_no_profile_for_an_unnamed_system(qtbot, small_window, small_store):
    w = small_window
    w.detail.show_ids([_id(small_store, "2026-03-14")])
    assert "System:" not in w.detail.launch.toPlainText()
