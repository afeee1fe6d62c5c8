"""The event form (issue 14): a blank form claims nothing; numbers keep the source's qualifier."""

from __future__ import annotations

from nkbrief.model import schema
from ui.edit_dialog import EventEditDialog


def test_blank_add_event_form_is_not_stated(qtbot, small_store):
    dlg = EventEditDialog(small_store, None)
    qtbot.addWidget(dlg)
    assert dlg.fields["confirmation"].currentData() == "not stated"
    dlg.set_value("date", "2026-11-30")
    dlg.set_value("missile_class", "SRBM")
    ev, probs = dlg.build()
    assert probs == {} and ev["confirmation"] == "not stated"


def test_qualified_numbers_are_kept_and_shown_again(qtbot, small_store):
    dlg = EventEditDialog(small_store, None)
    qtbot.addWidget(dlg)
    dlg.set_value("date", "2026-11-30")
    dlg.set_value("missile_class", "SRBM")
    dlg.set_value("count", "at least 7")
    dlg.set_value("distance", "over 700 km")
    dlg.set_value("apogee", "~60")
    assert dlg.check() == {}
    ev, _ = dlg.build()
    assert (ev["count"], ev["count_qualifier"]) == (7, "at least")
    assert (ev["distance_km"], ev["distance_km_max"], ev["distance_qualifier"]) == (700.0, None, "over")
    assert (ev["apogee_km"], ev["apogee_qualifier"]) == (60.0, "about")
    assert schema.validate_event(ev).ok
    again = EventEditDialog(small_store, ev)
    qtbot.addWidget(again)
    assert again.fields["count"].text() == "at least 7"
    assert again.fields["distance"].text() == "over 700"
    back, _ = again.build()
    assert (back["count_qualifier"], back["distance_qualifier"], back["apogee_qualifier"]) == \
        ("at least", "over", "about")


def test_an_event_with_no_confirmation_is_not_shown_as_confirmed(qtbot, small_store):
    ev = schema.empty_event() | {"id": "x", "date": "2026-11-30", "missile_class": "SRBM", "confirmation": None}
    dlg = EventEditDialog(small_store, ev)
    qtbot.addWidget(dlg)
    assert dlg.fields["confirmation"].currentData() == "not stated"
