"""A launch added by hand with a Hangul site gets a readable id (the gazetteer's romanised name)."""

from __future__ import annotations

from ui.edit_dialog import EventEditDialog


def test_add_event_with_a_hangul_site_gets_a_romanised_id(qtbot, small_store):
    dlg = EventEditDialog(small_store, None)
    qtbot.addWidget(dlg)
    dlg.set_value("date", "2026-09-10")
    dlg.set_value("missile_class", "SRBM")
    dlg.set_value("launch_site", "함경남도 신포 일대")
    assert dlg.check() == {}
    ev, _ = dlg.build()
    assert ev["id"] == "2026-09-10-srbm-sinpo"
    assert ev["confirmation"] == "not stated"  # a blank form claims nothing
