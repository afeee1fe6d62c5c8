"""The detail pane's Context tab and the timeline tooltip show the same calendar context as
`show --json` (and so the pack's sheet: tests/core/test_calendar_context.py)."""

from __future__ import annotations

import json

import pytest

from nkbrief.cli import main

SEED = "2026-01-27-srbm-north-of-pyongyang"
HGV = "2026-01-04-hgv-ryokpo"
NEEDLE = {SEED: "23 days before the 9th Party Congress (opened 2026-02-19)",
          HGV: "1 day before Beijing summit (Lee Jae-myung–Xi Jinping) (on 2026-01-05)"}


def shown(window, event_id, capsys) -> list[str]:
    assert main(["show", event_id, "--json", "--db", str(window.store.path)]) == 0
    return [c["phrase"] for c in json.loads(capsys.readouterr().out)["calendar_context"]]


@pytest.mark.parametrize("event_id", [SEED, HGV])
def test_detail_pane_and_tooltip_match_show_json(qtbot, window, capsys, event_id):
    phrases = shown(window, event_id, capsys)
    assert NEEDLE[event_id] in phrases
    window.select_ids([event_id])
    d = window.detail
    assert [n.phrase() for n in d.context_items(d.shown_event)] == phrases
    text = d.context.toPlainText()
    assert "Calendar context (60 days either side)" in text
    pos = [text.index(p) for p in phrases]
    assert pos == sorted(pos)  # every line, in the same order
    tl = window.timeline
    row = int(list(tl.ids).index(event_id))
    tip = tl.tooltip_html(row)
    import html

    lines = [html.unescape(x) for x in tip.split("<br>")]
    assert lines[-len(phrases):] == phrases


def test_month_precision_event_has_no_day_counts(qtbot, window):
    ev = window.store.events_frame()
    month = ev[ev["date_precision"] == "month"].iloc[0]["id"]
    window.select_ids([month])
    text = window.detail.context.toPlainText()
    assert "The date is known only to the month: no day counts to calendar entries." in text
    assert "days before" not in text and "days after" not in text
    assert "not counted: the date is known only to the month" in text
