"""The status bar's missile total is nkbrief.analysis.totals' (the same as the pack cover and the CLI)."""

from __future__ import annotations

from nkbrief.analysis.totals import frame_totals


def test_status_bar_total_for_a_date_filter(qtbot, window, seeded_store):
    fb = window.filter_bar
    fb.date_from.setText("2025-01-01")
    fb.date_to.setText("2026-10-03")
    fb._emit()
    frame = seeded_store.events_frame()
    sel = frame[(frame["date"] >= "2025-01-01") & (frame["date"] <= "2026-10-03")]
    t = frame_totals(sel)
    assert t.no_number >= 1   # unnumbered events are reported, not counted as one missile each
    assert window.status_counts.text() == f"{len(sel)} of {len(frame)} events · {t.text()}"
